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
