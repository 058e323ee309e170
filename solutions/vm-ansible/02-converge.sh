playbook "$PLAYBOOK" --ask-become-pass <<<"student"
