sudo apt-get update
sudo apt-get install -y python3-dev python-is-python3 nginx git sqlite3 python3-venv
