# A Service in front of the app's pods.
put k8s/service.yaml k8s/service.yaml
kubectl apply -f k8s/service.yaml
