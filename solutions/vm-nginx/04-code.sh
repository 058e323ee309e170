sudo mkdir -p "$APP_DIR"
if [ "$APP_DIR_OWNER" = root ]; then
    # The course's way: the folder stays root's, the group www-data may
    # write there (setgid: what is made inside keeps the group), and the
    # user joins www-data. The new group counts from the next login: this
    # session clones through sudo, which reads the groups afresh.
    sudo chgrp www-data "$APP_DIR"
    sudo chmod g+rwxs "$APP_DIR"
    sudo usermod -a -G www-data "$APP_USER"
    clone() { sudo -u "$APP_USER" -H git clone "$@"; }
else
    sudo chown "$APP_USER":www-data "$APP_DIR"
    sudo chmod 775 "$APP_DIR"
    clone() { as_app git clone "$@"; }
fi
if [ ! -d "$APP_DIR/blog/.git" ]; then
    clone http://git.deploylab.test/blog.git "$APP_DIR/blog"
fi
