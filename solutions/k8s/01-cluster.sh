# kubectl reaches the cluster as soon as the lab starts.
# deploylab: a fresh lab passes this stage
kubectl get nodes
