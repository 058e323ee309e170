# What production wants: the database password and the secret key from
# Secrets, a readiness probe, requests and limits.
put k8s/blog-production.yaml k8s/blog.yaml
kubectl apply -f k8s/blog.yaml
kubectl rollout status deployment/blog --timeout=180s
