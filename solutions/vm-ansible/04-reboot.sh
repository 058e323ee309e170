# The playbook enabled the socket and nginx; a reboot proves it.
# deploylab: restart the VM after this step
true
