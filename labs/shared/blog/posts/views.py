from django.shortcuts import get_object_or_404, redirect, render

from .forms import PostForm
from .models import Post


def post_list(request):
    form = PostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = form.save()
        return redirect(post)
    return render(request, "posts/list.html", {"posts": Post.objects.all(), "form": form})


def post_detail(request, pk):
    return render(request, "posts/detail.html", {"post": get_object_or_404(Post, pk=pk)})
