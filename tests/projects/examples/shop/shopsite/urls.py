from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from catalog import views

urlpatterns = [
    path("", RedirectView.as_view(url="/catalog/", permanent=True)),
    path("catalog/", views.index),
    path("admin/", admin.site.urls),
]
