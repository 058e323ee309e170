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
