# The VM comes ready: SSH works (this script runs over it) and so does sudo.
sudo -n true
