# The course starts with a hello-world playbook against the inventory.
playbook ping.yaml
