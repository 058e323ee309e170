# The image, tagged (a :latest image would be pulled, and fail), and a
# first Deployment of it. Its database is not there yet: the pods run
# their migrations first, fail, and restart (CrashLoopBackOff).
put Dockerfile Dockerfile
put .dockerignore .dockerignore
put gunicorn.conf.py gunicorn.conf.py
docker build -q -t blog:1 . >/dev/null
# On kind, an image built here must reach its node (the built-in cluster
# runs the engine's own images).
if [ -n "${KIND_CLUSTER:-}" ]; then kind load docker-image blog:1 --name "$KIND_CLUSTER"; fi
mkdir -p k8s
sed -e 's/PASSWORD_FROM/value: "not-yet"/' "$SOLUTION/k8s/blog.yaml" > k8s/blog.yaml
kubectl apply -f k8s/blog.yaml
