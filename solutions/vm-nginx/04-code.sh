sudo mkdir -p "$APP_DIR"
sudo chown "$APP_USER":www-data "$APP_DIR"
sudo chmod 775 "$APP_DIR"
if [ ! -d "$APP_DIR/blog/.git" ]; then
    as_app git clone http://git.deploylab.test/blog.git "$APP_DIR/blog"
fi
