# Put in front of every step of the vm-ansible lab's reference solution.
# Steps run on the student's machine with bash, in a project folder of
# the lab's, with the lab's Ansible through deploylab ($DEPLOYLAB, the
# running deploylab; $INVENTORY, the inventory start wrote; $SOLUTION, the
# solution's files). PLAYBOOK names another playbook (tests).
set -euo pipefail
PLAYBOOK="${PLAYBOOK:-playbook.yaml}"
cp -r "$SOLUTION"/. .
playbook() { "$DEPLOYLAB" ansible-playbook -i "$INVENTORY" "$@"; }
