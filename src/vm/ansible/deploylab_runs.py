# deploylab's record of an ansible-playbook run, for the vm-ansible lab's
# checks: what ran (arguments, folder, playbooks, inventory), how each
# inventory host is reached, every task's result on every host, and the
# recap. deploylab wrote this file into the lab's folder; the ansible.cfg
# beside it enables it (ANSIBLE_CONFIG). It prints nothing and changes
# nothing: each run is one JSON file in ../runs, rewritten as tasks end,
# so a run stopped halfway is seen as far as it went.
from __future__ import annotations

DOCUMENTATION = """
    name: deploylab_runs
    type: aggregate
    short_description: records each run for deploylab's checks
    description:
      - Writes the run's arguments and per-task results as JSON into the
        runs folder beside this plugin's folder.
"""

import json
import os
import sys
import time

from ansible import context
from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase

# The arguments of a task kept in the record: those that say why it
# changed something (never values the task marks no_log).
KEPT_ARGS = ("creates", "removes", "state", "update_cache", "cache_valid_time")
# The host variables that say how a host is reached.
REACH = ("ansible_host", "ansible_port", "ansible_user", "ansible_connection")
FORMAT = 1
# The names of the machine that runs Ansible.
LOCAL = ("localhost", "127.0.0.1", "::1")


def _short(value, limit=2000):
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "deploylab_runs"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        here = os.path.dirname(os.path.abspath(__file__))
        self._dir = os.path.join(os.path.dirname(os.path.dirname(here)), "runs")
        started = time.time()
        self._path = os.path.join(self._dir, "%.6f-%d.json" % (started, os.getpid()))
        self._play = None
        self._record = {
            "format": FORMAT,
            "started": started,
            "ended": None,
            "complete": False,
            "by": os.environ.get("DEPLOYLAB_ANSIBLE_BY", "student"),
            "rerun_of": os.environ.get("DEPLOYLAB_ANSIBLE_RERUN_OF"),
            "argv": list(sys.argv),
            "cwd": os.getcwd(),
            "playbooks": [],
            "inventory": [],
            "check": False,
            "limit": None,
            "hosts": {},
            "plays": [],
            "tasks": [],
            "stats": {},
            "current": None,
        }

    def _save(self):
        try:
            os.makedirs(self._dir, exist_ok=True)
            tmp = self._path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self._record, f)
            os.replace(tmp, self._path)
        except OSError as error:
            self._display.warning("deploylab could not record this run: %s" % error)

    def v2_playbook_on_start(self, playbook):
        args = context.CLIARGS
        cwd = os.getcwd()
        record = self._record
        record["playbooks"] = [os.path.join(cwd, p) for p in args.get("args", ())]
        # Paths made absolute; a host list (`-i web1,web2,`) as it is.
        record["inventory"] = [
            os.path.abspath(os.path.expanduser(i)) if os.path.exists(os.path.expanduser(i)) else i
            for i in (args.get("inventory") or ())
        ]
        record["check"] = bool(args.get("check"))
        record["limit"] = args.get("subset")
        self._save()

    def v2_playbook_on_play_start(self, play):
        self._play = play
        self._record["plays"].append({"name": play.get_name(), "hosts": play.hosts})
        try:
            manager = play.get_variable_manager()
            inventory = manager._inventory
            # Every host, not only the play's batch (a play's run restricts
            # what get_hosts sees to its own hosts).
            for host in list(inventory.hosts.values()):
                if host.name in self._record["hosts"]:
                    continue
                values = manager.get_vars(host=host, include_hostvars=False)
                reach = {k: values.get(k) for k in REACH if values.get(k) is not None}
                self._record["hosts"][host.name] = {
                    "address": str(reach.get("ansible_host", host.name)),
                    "port": reach.get("ansible_port"),
                    "user": reach.get("ansible_user"),
                    "connection": reach.get("ansible_connection"),
                    "groups": sorted(g.name for g in host.get_groups() if g.name != "all"),
                }
        except Exception as error:  # an inventory read differently: record what is known
            self._display.vvv("deploylab: hosts not recorded: %s" % error)
        self._save()

    def v2_playbook_on_task_start(self, task, is_conditional):
        # The task under way: where a run stopped halfway stopped.
        play = self._play.get_name() if self._play else ""
        self._record["current"] = {"play": play, "task": task.get_name()}
        self._save()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _result(self, result, status):
        task = result._task
        host = result._host.get_name()
        outcome = result._result or {}
        no_log = bool(getattr(task, "no_log", False)) or outcome.get("_ansible_no_log")
        args = {}
        if not no_log:
            for key in KEPT_ARGS:
                value = task.args.get(key)
                if isinstance(value, (str, bool, int)):
                    args[key] = value
        message = ""
        if status in ("failed", "unreachable") and not no_log:
            said = [str(outcome.get(k) or "").strip() for k in ("msg", "stderr", "module_stderr")]
            # A module's msg often repeats its stderr: each text once.
            message = ": ".join(t for i, t in enumerate(said) if t and t not in said[:i])
        item = outcome.get("item") if not no_log else None
        # A task run on the machine that runs Ansible, not on a server.
        delegated = str(getattr(task, "delegate_to", None) or "")
        control = delegated in LOCAL or getattr(task, "connection", None) == "local" \
            or (host in LOCAL and not delegated)
        self._record["tasks"].append({
            "play": self._play.get_name() if self._play else "",
            "task": task.get_name(),
            "action": task.action,
            "path": task.get_path() or "",
            "host": host,
            "status": status,
            "message": _short(message) if message else "",
            "handler": isinstance(task, Handler),
            "ignore_errors": bool(task.ignore_errors) if isinstance(task.ignore_errors, bool) else False,
            "changed_when": bool(task.changed_when),
            "notify": bool(task.notify),
            "args": args,
            "item": _short(item, 200) if item is not None else None,
            "control": bool(control),
        })
        self._save()

    def v2_runner_on_ok(self, result):
        self._result(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        self._record["stats"] = {
            host: stats.summarize(host) for host in sorted(stats.processed.keys())
        }
        self._record["ended"] = time.time()
        self._record["complete"] = True
        self._save()
