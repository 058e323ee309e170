# gunicorn configured from the environment (it reads ./gunicorn.conf.py).
put gunicorn.conf.py gunicorn.conf.py
