# PostgreSQL in the cluster (its password in a Secret, its data in an
# emptyDir), then the app again with the password: a new ReplicaSet whose
# pods migrate and serve.
put k8s/db.yaml k8s/db.yaml
if [ -n "${KIND_CLUSTER:-}" ]; then kind load docker-image postgres:15 --name "$KIND_CLUSTER"; fi
kubectl apply -f k8s/db.yaml
kubectl rollout status deployment/db --timeout=120s
sed -e 's/PASSWORD_FROM/value: "blog-db-password"/' "$SOLUTION/k8s/blog.yaml" > k8s/blog.yaml
kubectl apply -f k8s/blog.yaml
kubectl rollout status deployment/blog --timeout=180s
