"""kombu's filesystem transport, with messages written atomically.

The stock transport creates the message file and then writes it, so a worker
polling the folder can pick up an empty file and die on it (kombu issue #1551).
Here each message is written under a name the worker ignores and renamed into
place, which is atomic on one filesystem. The exchange table has the same gap
(created empty, then locked and written): a reader that finds it empty waits for
the writer, and a route bound by another connection of the same process is
found even before its file is written. Used only by the demo's embedded broker.
"""

import os
import uuid
from time import monotonic, sleep

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: write `<name>.msg.part`, then rename to `<name>.msg`."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"  # `_get` only takes names ending in "<queue>.msg"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def get_table(self, exchange):
        on_disk = _while_being_written(super().get_table, exchange)
        # kombu records a binding in the process-wide state before it writes the
        # file, so a second connection in the same process can publish in between
        # and would find no route; the in-process table covers that window.
        in_process = self.state.exchanges.get(exchange, {}).get("table", [])
        return on_disk + [binding for binding in in_process if binding not in on_disk]

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        return _while_being_written(super()._queue_bind, exchange, routing_key, pattern, queue)


def _while_being_written(read, *args, attempts: int = 100):
    """Call `read`, retrying while another process has created the file but not yet
    written it (it reads as empty, which is invalid JSON)."""
    for _ in range(attempts - 1):
        try:
            return read(*args)
        except ValueError:
            sleep(0.005)
    return read(*args)


class Transport(filesystem.Transport):
    Channel = Channel
