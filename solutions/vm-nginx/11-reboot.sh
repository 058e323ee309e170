# Enabled units come back after a reboot; started-by-hand ones do not.
sudo systemctl enable gunicorn.socket nginx
# deploylab: restart the VM after this step
