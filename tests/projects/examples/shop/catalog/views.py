from django.http import HttpResponse
from django.utils.html import escape

from .models import Product


def index(request):
    items = "".join(
        f"<li>{escape(p.name)}: {p.price_cents / 100:.2f}</li>" for p in Product.objects.all()
    )
    return HttpResponse(f"<h1>Catalogue</h1><ul>{items}</ul>")
