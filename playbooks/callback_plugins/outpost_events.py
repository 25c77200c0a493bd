# Outpost's event callback: one JSON object per line on the file descriptor named by OUTPOST_EVENT_FD.
# The schema is documented in README.md next to this file. Silent when the variable
# is unset or the descriptor is not open, so a plain `ansible-playbook` run is unaffected.
from __future__ import annotations

DOCUMENTATION = '''
    name: outpost_events
    type: notification
    short_description: Writes Outpost's JSON run events to the file descriptor in OUTPOST_EVENT_FD
    description:
      - One JSON object per line (schema v1) for playbook, play and task starts, per-host and per-item
        results, warnings, deprecations, the recap and the end of the playbook.
      - Results of no_log tasks are censored; module arguments and return values are never written.
      - Does nothing when OUTPOST_EVENT_FD is unset or names a descriptor that is not open.
    requirements:
      - enabled in ansible.cfg (callbacks_enabled = outpost_events)
'''

import datetime
import errno
import json
import os
import time

from ansible.plugins.callback import CallbackBase
from ansible.utils.display import Display

SCHEMA_VERSION = 1
NO_LOG_MSG = 'the output has been hidden due to no_log'
HIDDEN_ITEM = '(hidden)'
MAX_MSG = 4000


def _utc_now():
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds')
    return stamp.replace('+00:00', 'Z')


def _open_event_fd():
    """The descriptor from OUTPOST_EVENT_FD when it is a number and open, else None."""
    value = os.environ.get('OUTPOST_EVENT_FD', '')
    if not value.isdigit():
        return None
    fd = int(value)
    try:
        os.fstat(fd)
    except OSError:
        return None
    try:
        # Children exec'd by Ansible (ssh, sshpass) must not hold the pipe open after the run.
        os.set_inheritable(fd, False)
    except OSError:
        pass
    return fd


def _text(value):
    if value is None:
        return ''
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True, default=str)
    text = str(value)
    return text if len(text) <= MAX_MSG else text[:MAX_MSG] + '...'


def _is_no_log(result):
    res = result._result
    return bool(res.get('_ansible_no_log')) or 'censored' in res


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'outpost_events'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display)
        self._fd = _open_event_fd()
        self._counter = 0
        self._play = ''
        self._starts = {}
        self._seen_warnings = set()
        if self._fd is not None:
            self._hook_display()

    # -- writing -----------------------------------------------------------------------------------

    def _emit(self, event, **fields):
        if self._fd is None:
            return
        self._counter += 1
        record = {'v': SCHEMA_VERSION, 'counter': self._counter, 'time': _utc_now(), 'event': event}
        record.update(fields)
        data = (json.dumps(record, default=str, ensure_ascii=False) + '\n').encode('utf-8', 'replace')
        try:
            while data:
                written = os.write(self._fd, data)
                data = data[written:]
        except OSError as error:
            # The reader went away (EPIPE) or the descriptor closed: stop writing, never fail the run.
            if error.errno not in (errno.EPIPE, errno.EBADF, errno.EINVAL):
                self._display.vvv('outpost_events: cannot write events: %s' % error)
            self._fd = None

    def _hook_display(self):
        """Also report the warnings and deprecations Ansible prints itself (not only module ones)."""
        display = Display()
        plugin = self
        original_warning = display.warning
        original_deprecated = display.deprecated

        def warning(msg, formatted=False):
            plugin._warning('warning', msg)
            return original_warning(msg, formatted=formatted)

        def deprecated(msg, *args, **kwargs):
            plugin._warning('deprecation', msg)
            return original_deprecated(msg, *args, **kwargs)

        display.warning = warning
        display.deprecated = deprecated

    def _warning(self, event, msg):
        text = _text(msg).strip()
        key = (event, text)
        if not text or key in self._seen_warnings:
            return
        self._seen_warnings.add(key)
        self._emit(event, msg=text)

    def _result_warnings(self, res):
        for msg in res.get('warnings') or []:
            self._warning('warning', msg)
        for item in res.get('deprecations') or []:
            self._warning('deprecation', item.get('msg') if isinstance(item, dict) else item)

    # -- playbook, play, task ----------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._emit('playbook_start', playbook=os.path.basename(getattr(playbook, '_file_name', '') or ''))

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name().strip()
        self._emit('play_start', play=self._play, hosts=self._play_hosts(play))

    @staticmethod
    def _play_hosts(play):
        try:
            inventory = play.get_variable_manager()._inventory
            return [host.get_name() for host in inventory.get_hosts(play.hosts)]
        except Exception:  # noqa: BLE001 - fall back to the patterns when the inventory is not at hand
            hosts = play.hosts if isinstance(play.hosts, list) else [play.hosts]
            return [str(h) for h in hosts]

    def _task_start(self, task, is_handler):
        self._emit('task_start', task=task.get_name().strip(), task_id=str(task._uuid), action=str(task.action),
                   play=self._play, is_handler=is_handler)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task, False)

    def v2_playbook_on_cleanup_task_start(self, task):
        self._task_start(task, False)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, True)

    # -- results -----------------------------------------------------------------------------------

    def v2_runner_on_start(self, host, task):
        self._starts[(host.get_name(), str(task._uuid))] = time.monotonic()

    def _host_result(self, result, status, ignore_errors=False):
        res = result._result
        host = result._host.get_name()
        task = result._task
        started = self._starts.pop((host, str(task._uuid)), None)
        fields = {
            'host': host,
            'task': task.get_name().strip(),
            'task_id': str(task._uuid),
            'action': str(task.action),
            'status': status,
            'duration_ms': int((time.monotonic() - started) * 1000) if started is not None else 0,
        }
        if _is_no_log(result):
            fields['msg'] = NO_LOG_MSG
        else:
            self._result_warnings(res)
            msg = self._reason(res, status)
            if msg:
                fields['msg'] = msg
        if status == 'failed' and ignore_errors:
            fields['ignore_errors'] = True
        rc = res.get('rc')
        if isinstance(rc, int) and not isinstance(rc, bool):
            fields['rc'] = rc
        self._emit('host_result', **fields)

    @staticmethod
    def _reason(res, status):
        if status == 'skipped':
            return _text(res.get('skip_reason') or res.get('msg') or 'skipped')
        if status == 'unreachable':
            return _text(res.get('msg') or 'host unreachable')
        if status != 'failed':
            return ''
        msg = res.get('msg')
        if not msg and res.get('results'):
            msg = 'One or more items failed'
        if not msg:
            msg = res.get('stderr') or res.get('reason') or 'failed'
        # A failed command or validation says why on stderr (e.g. template's "failed to validate").
        stderr = res.get('stderr')
        if isinstance(stderr, str) and stderr.strip() and stderr.strip() not in str(msg):
            msg = '%s: %s' % (msg, stderr.strip())
        return _text(msg).strip()

    def v2_runner_on_ok(self, result):
        self._host_result(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host_result(result, 'failed', ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._host_result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._host_result(result, 'unreachable')

    def _item_result(self, result, status):
        res = result._result
        fields = {
            'host': result._host.get_name(),
            'task': result._task.get_name().strip(),
            'task_id': str(result._task._uuid),
            'status': status,
        }
        if _is_no_log(result):
            fields['item'] = HIDDEN_ITEM
            fields['msg'] = NO_LOG_MSG
        else:
            label = res.get('_ansible_item_label', res.get('item'))
            fields['item'] = _text(label)
            msg = self._reason(res, status)
            if msg:
                fields['msg'] = msg
        self._emit('item_result', **fields)

    def v2_runner_item_on_ok(self, result):
        self._item_result(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_item_on_failed(self, result):
        self._item_result(result, 'failed')

    def v2_runner_item_on_skipped(self, result):
        self._item_result(result, 'skipped')

    # -- end ---------------------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            summary = stats.summarize(host)
            hosts[host] = {
                'ok': summary.get('ok', 0),
                'changed': summary.get('changed', 0),
                'failed': summary.get('failures', 0),
                'skipped': summary.get('skipped', 0),
                'unreachable': summary.get('unreachable', 0),
                'rescued': summary.get('rescued', 0),
                'ignored': summary.get('ignored', 0),
            }
        # Custom stats a play recorded for Outpost with set_stats (keys outpost_*), e.g. outpost_facts.
        custom = getattr(stats, 'custom', None) or {}
        run = custom.get('_run', {}) if isinstance(custom, dict) else {}
        recorded = {key: value for key, value in run.items() if str(key).startswith('outpost_')}
        if recorded:
            self._emit('recap', hosts=hosts, stats=recorded)
        else:
            self._emit('recap', hosts=hosts)
        success = all(counts['failed'] == 0 and counts['unreachable'] == 0 for counts in hosts.values())
        self._emit('playbook_end', success=success)
