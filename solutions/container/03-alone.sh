# The settings point at PostgreSQL, in a container of its own: alone, the
# image fails on its database.
put Dockerfile Dockerfile
