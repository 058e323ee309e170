# Put in front of every step of the k8s lab's reference solution. Steps
# run on the student's machine with bash, in the app folder (a clone of
# the blog), with the real docker CLI and kubectl (KUBECONFIG points at
# the lab's cluster). $SOLUTION holds the solution's files.
set -euo pipefail

# Copies one of the solution's files into the app folder.
put() {
    mkdir -p "$(dirname "$2")"
    cp "$SOLUTION/$1" "$2"
}
