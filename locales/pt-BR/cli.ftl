# A ajuda da linha de comando em português do Brasil. O inglês fica nas
# definições do clap (src/cli.rs); as chaves são o caminho do comando e o id
# do argumento. Um teste confere que toda ajuda tem a sua tradução aqui.

cli-about =
    O deploylab dá a você uma "VM" Debian 12 novinha (um contêiner com systemd e sshd) em cerca de um segundo, verifica o seu trabalho etapa por etapa e remove tudo quando você termina.

    Sessão típica:
      deploylab start vm-nginx
      deploylab ssh        (trabalhe como o curso manda)
      deploylab check
      deploylab stop
cli-after =
    Códigos de saída: 0 ok (todas as verificações passam) · 1 alguma verificação falha · 2 erro de uso ou de entrada · 3 problema do ambiente (Docker, imagens, portas) · 130 interrompido.
    Ambiente: DOCKER_HOST (o Docker), DEPLOYLAB_HOME (estado, chave SSH), DEPLOYLAB_CACHE (cache do build das imagens), DEPLOYLAB_LABS (carrega os labs de uma pasta), DEPLOYLAB_LANG (en, pt-BR).
cli-quiet = Mostra menos: sem progresso, sem dicas de uso
cli-lang = O idioma do que o deploylab mostra (padrão: o locale, de LC_ALL, LC_MESSAGES ou LANG; `pt_BR…` é português). As saídas para máquinas (chaves do JSON, ids, códigos de saída) são as mesmas em todos os idiomas
cli-labs-about = Lista os labs
cli-labs-po = Mostra o catálogo de tradução deste lab (`.po` do gettext) para o idioma do `--lang`, com as traduções que o `<idioma>.po` dele já tem: salve-o ao lado do lab.yaml e preencha o resto
cli-start-about =
    Inicia o ambiente de um lab (constrói a imagem no primeiro uso) e mostra como se conectar.

    Rodar o `start` de novo num lab que já está rodando só mostra de novo os dados de conexão.
cli-start-lab = O id do lab, por exemplo vm-nginx (veja `deploylab labs`)
cli-start-fresh = Joga fora a VM atual do lab e começa de uma limpa
cli-start-ssh_port = Publica o SSH da VM nesta porta de 127.0.0.1 (padrão: uma porta livre)
cli-start-http_port = Publica a porta 80 da VM nesta porta de 127.0.0.1 (padrão: uma porta livre)
cli-start-repo = Serve também este repositório git (uma URL ou um caminho local) pelo servidor git do lab, com o nome dele: faça o deploy do repositório do curso ou do seu próprio projeto no lugar do exemplo do lab
cli-start-dir = A pasta da aplicação que o lab container verifica (padrão: a pasta atual): onde estão o seu Dockerfile e o seu arquivo do Compose
cli-start-no_spare = Não usa nem deixa uma VM reserva ligada de antemão para o próximo start (para uma máquina com pouca memória; para sempre: `spare: false` no config.yaml da pasta do deploylab, ou DEPLOYLAB_SPARE=off)
cli-start-backend = O cluster do lab k8s: `builtin` (o do próprio deploylab, sem internet) ou `kind` (padrão: builtin)
cli-status-about = Mostra os labs rodando, o estado e as portas deles
cli-check-about =
    Verifica o seu trabalho: uma tabela de etapas com ✓/✗ e uma dica para a primeira coisa a corrigir.

    Código de saída 0 quando todas as verificações passam, 1 quando alguma falha.
cli-check-lab = O lab (padrão: o único rodando)
cli-check-stage = Mostra só esta etapa (todas continuam sendo avaliadas, por causa das "bloqueadas")
cli-check-format = O formato da saída: uma tabela para pessoas, JSON (esquema no README) ou JUnit XML para ferramentas
cli-check-app = O lab heroku: julga esta app (padrão: a do último push)
cli-hint-about = Mostra a dica da primeira verificação que falha
cli-hint-lab = O lab (padrão: o único rodando)
cli-hint-app = O lab heroku: sobre esta app (padrão: a do último push)
cli-hint-more = Uma dica mais funda, um passo mais perto da resposta
cli-solve-about =
    Aplica a solução de referência até uma etapa, inclusive (para pular adiante).

    O script de cada etapa roda por SSH como o aluno, do jeito que o curso digita.
cli-solve-lab = O lab (padrão: o único rodando)
cli-solve-stage = A última etapa a resolver (veja os ids no `deploylab check`)
cli-ssh-about =
    Abre uma sessão SSH na VM do lab com o cliente ssh do seu sistema.

    O que vier depois de `--` roda como um comando remoto: `deploylab ssh -- sudo apt-get update`.
cli-ssh-lab = O lab (padrão: o único rodando)
cli-ssh-machine = A máquina (padrão: a primeira do lab)
cli-ssh-command = Um comando para rodar no lugar de um shell interativo
cli-shell-about = Abre um shell na VM como o usuário do aluno, sem SSH (pelo Docker)
cli-shell-lab = O lab (padrão: o único rodando)
cli-shell-machine = A máquina (padrão: a primeira do lab)
cli-restart-about = Reinicia a VM do lab (o systemd desliga e sobe de novo; os arquivos ficam)
cli-restart-lab = O lab (padrão: o único rodando)
cli-restart-machine = Reinicia só esta máquina (padrão: todas as máquinas do lab)
cli-stop-about = Para um lab e remove o contêiner dele. Nada com a marca do deploylab fica para trás
cli-stop-lab = O lab a parar (padrão: o único rodando)
cli-stop-all = Para todos os labs desta pasta do deploylab
cli-submit-about =
    Salva o seu trabalho no lab num arquivo só, para entregar (faça o commit dele no repositório da sua tarefa).

    Num lab de VM: o que você mudou na VM (arquivos, pacotes, serviços); o `deploylab grade` do seu professor o restaura numa VM novinha e o verifica lá.
cli-submit-lab = O lab (padrão: o único rodando)
cli-submit-output = Onde escrever (padrão: deploylab-<lab>.submission aqui)
cli-grade-about =
    Corrige entregas: cada uma é restaurada num ambiente novinho do lab, verificada ali e removida.

    Uma entrega é um arquivo feito pelo `deploylab submit`, ou uma pasta (um repositório de tarefa) que contém um. Códigos de saída: 0 toda entrega corrigida · 1 alguma abaixo de --fail-under · 2 uma entrega ou a linha de comando está errada · 3 problema do ambiente.
cli-grade-after =
    Exemplos:
      deploylab grade vm-nginx submissions/*/
      deploylab grade vm-nginx repos/* --jobs 4 --out csv=grades.csv --out markdown=summary.md
      deploylab grade vm-nginx repos/* --shard 2/4 --out json=results-2.json   (um runner da CI)
      deploylab grade --merge results-*.json --out csv=grades.csv            (depois de todas as partes)
cli-grade-lab = O lab a que as entregas pertencem
cli-grade-submissions = Arquivos de entrega, ou pastas que contêm um
cli-grade-merge = Junta os resultados JSON de várias execuções (as partes de uma matriz de CI) em vez de corrigir
cli-grade-jobs = Entregas corrigidas lado a lado (padrão: o que esta máquina aguenta, pelos núcleos e pela memória)
cli-grade-shard = Corrige só a parte K de N (a partir de 1), a mesma em todo runner: uma matriz de CI corrige uma turma em N máquinas
cli-grade-timeout = Limite de tempo por entrega (restaurar, subir, verificar), por exemplo 300s, 5m
cli-grade-disk_limit = Quanto uma VM corrigida pode escrever em disco, por exemplo 4G, 500M
cli-grade-format = Como os resultados são mostrados
cli-grade-out = Escreve também os resultados num formato, num arquivo: `--out csv=grades.csv` (pode se repetir)
cli-grade-fail_under = Sai com 1 quando uma entrega ganha menos pontos que isto
cli-grade-evidence = Guarda, por entrega, o que uma nota contestada precisa: o relatório, os fatos que as verificações viram, o manifesto e o hash da entrega
cli-selftest-about = Prova as verificações de um lab: um ambiente novinho passa só no que não exige trabalho, a solução de referência até cada etapa faz passar exatamente as etapas até ela, e a entrega dela, corrigida, ganha todos os pontos
cli-selftest-lab = O lab (padrão: todos os labs)
cli-doctor-about = Confere se esta máquina roda os labs, com uma solução para cada problema
cli-completions-about = Mostra o script de autocompletar do shell: por exemplo, `source <(deploylab completions bash)` no ~/.bashrc. Os nomes de labs, etapas e máquinas são completados a partir dos labs e do lab rodando
cli-completions-shell = O shell
cli-man-about = Mostra a página de manual do deploylab (roff): `deploylab man > deploylab.1`
cli-book-about = As páginas geradas do livro do curso: um preprocessor do mdbook que transforma as diretivas `#deploylab lab <id>`, `check-kinds` e `cli` em páginas feitas a partir dos labs e do próprio deploylab (o `mdbook/<idioma>/book.toml` o roda; o `scripts/book.sh` constrói o livro em todos os idiomas)
cli-book-preprocess-about = O protocolo de preprocessor do mdbook: `[context, book]` em JSON na entrada padrão, o livro com as páginas prontas na saída padrão
cli-book-preprocess-supports-about = A pergunta do mdbook sobre se um renderer é suportado (todos são)
cli-images-about = Constrói, lista ou limpa as imagens do deploylab
cli-images-build-about = Constrói as imagens de que os labs precisam (não faz nada quando estão em dia)
cli-images-list-about = Lista as imagens que o deploylab construiu
cli-images-prune-about = Remove imagens e caches de receitas antigas
cli-images-prune-packages = Esvazia também os pacotes Python que o proxy de pacotes guarda para todos os labs (buscados de novo quando um lab pede, enquanto a máquina está online)
cli-heroku-about = O lab heroku: mostra o ambiente de que o `heroku` CLI de verdade e o git precisam
cli-heroku-env-about = Mostra as linhas `export` para o heroku CLI de verdade e o git: `eval "$(deploylab heroku env)"`
cli-k8s-about = O lab k8s: mostra o ambiente de que o kubectl precisa
cli-k8s-env-about = Mostra a linha `export KUBECONFIG=…` para o kubectl: `eval "$(deploylab k8s env)"`
cli-ansible-playbook-about = Roda o ansible-playbook de verdade (o ansible-core do Debian, sem internet) contra o lab de Ansible que está rodando, nesta pasta: por exemplo, `deploylab ansible-playbook -i <inventário> playbook.yaml --ask-become-pass`. Sai com o próprio código do ansible-playbook
cli-ansible-playbook-args = Os argumentos do ansible-playbook, como você os daria a ele
cli-ansible-about = O lab de Ansible: mostra as configurações de que o seu próprio Ansible precisa para o deploylab ver as suas execuções: `eval "$(deploylab ansible env)"`
cli-ansible-env-about = Mostra as linhas `export ANSIBLE_…` para o shell
