"""The vm-nginx checks written for pytest-testinfra (docker backend), to
compare check latency with `deploylab check` on the same VM (bench/bench.py
--testinfra). Same outcomes, the usual testinfra way: one `docker exec` per
question, trusting the tools inside the VM.

Run: pytest --hosts=docker://<container> bench/testinfra/test_vm_nginx.py
"""
import pytest

PACKAGES = ["python3-dev", "python-is-python3", "nginx", "git", "sqlite3", "python3-venv"]


def test_sshd_listening(host):
    assert host.socket("tcp://0.0.0.0:22").is_listening


def test_student_may_sudo(host):
    assert "sudo" in host.user("student").groups


def test_authorized_keys(host):
    f = host.file("/home/student/.ssh/authorized_keys")
    assert f.exists and f.user == "student" and f.mode == 0o600


@pytest.mark.parametrize("name", PACKAGES)
def test_package(host, name):
    assert host.package(name).is_installed


def test_venv(host):
    assert host.file("/home/student/.venv/pyvenv.cfg").exists
    assert host.run("/home/student/.venv/bin/python -c 'import sys; print(sys.prefix)'").rc == 0


def test_pip_upgraded(host):
    out = host.check_output("/home/student/.venv/bin/python -m pip --version")
    assert not out.startswith("pip 23.0.1")


def test_app_dir(host):
    f = host.file("/app")
    assert f.is_directory and f.user == "student" and f.group == "www-data" and f.mode == 0o775


def test_checkout(host):
    assert host.file("/app/blog/.git").is_directory


def test_app_installed(host):
    assert "blog" in host.pip.get_packages(pip_path="/home/student/.venv/bin/pip")


def test_settings(host):
    content = host.file("/app/blog_settings.toml").content_string
    assert "debug = false" in content and "allowed_hosts" in content


def test_migrations(host):
    out = host.check_output(
        "cd /app && BLOG_ENV=production DJANGO_SETTINGS_MODULE=blog.settings "
        "/home/student/.venv/bin/django-admin showmigrations --plan")
    assert "[ ]" not in out


def test_superuser(host):
    out = host.check_output("sqlite3 /app/db.sqlite3 'select count(*) from auth_user where is_superuser=1'")
    assert int(out) >= 1


def test_static(host):
    assert host.file("/app/static/admin/css/base.css").exists


def test_socket(host):
    assert host.service("gunicorn.socket").is_enabled
    assert host.socket("unix:///run/gunicorn.sock").is_listening


def test_service_user(host):
    assert "User=student" in host.file("/etc/systemd/system/gunicorn.service").content_string


def test_socket_answers(host):
    assert host.run("curl -sf --unix-socket /run/gunicorn.sock http://localhost/").rc == 0


def test_nginx(host):
    assert host.run("nginx -t").rc == 0
    assert not host.file("/etc/nginx/sites-enabled/default").exists
    assert host.service("nginx").is_enabled


def test_blog_on_80(host):
    assert "csrfmiddlewaretoken" in host.check_output("curl -s http://localhost/")


def test_static_by_nginx(host):
    assert host.run("curl -sf http://localhost/static/admin/css/base.css").rc == 0


def test_debug_off(host):
    assert "DEBUG = True" not in host.check_output("curl -s http://localhost/nope-404/")
