"""Growing the anomaly model's forest in a forked process of its own.

A retrospective replay fits its model on the log it is reading. Importing scikit-learn
(with SciPy) for that costs 1.3 to 2 s of CPU, all of it holding the GIL, while the
replay's reading and featuring need the GIL between their compiled parts: in one
process the two take turns. Forked at the start of the replay, a worker imports
scikit-learn on the other core while the replay reads, and then grows the forest when
the training sample is ready; only the sample goes to it and only the trees (plain
arrays, ``Trees``) come back. The same sample and parameters grow the same trees as
in-process, to the bit.

Forking is for a process that has just started: no threads of its own yet, and little
memory, whose pages parent and worker would otherwise share until the parent wrote
them, one copy-on-write fault at a time. So the replay command forks
(``replay(..., fork_fit=True)``) before it starts reading, and the library's replay
does not unless asked. Where the platform cannot fork, or the worker dies, the forest
is grown in-process, as ``AnomalyModel.fit`` does by default.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported here: the replay forks before it imports numba, the worker imports them itself
    import numpy as np

    from models.anomaly import AnomalyModel, Trees

log = logging.getLogger(__name__)


def _serve(conn: Connection, parents: Connection) -> None:
    """The worker: import scikit-learn at once, then grow one forest and send it back (or the error)."""
    parents.close()  # the parent's end, inherited: the worker must not hold it open
    # Ctrl-C reaches the whole process group: the parent stops the worker (``close``), which
    # must not print a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import sklearn.ensemble  # noqa: F401 - the point of the worker: imported while the parent reads

    model, X = conn.recv()
    try:
        conn.send(model.grow(X))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
        conn.send(exc)
    finally:
        conn.close()


class ForkedGrower:
    """A forked worker that grows one forest: ``grow`` it once, then ``close`` it.

    >>> import numpy as np
    >>> from models.anomaly import AnomalyModel
    >>> grower = ForkedGrower()
    >>> X = np.random.default_rng(0).random((300, 3))
    >>> model = AnomalyModel(n_estimators=5, max_samples=64)
    >>> bool(np.array_equal(grower.grow(model, X).threshold, model.grow(X).threshold))
    True
    >>> grower.close()
    """

    def __init__(self) -> None:
        self._conn: Connection | None = None
        self._process = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._conn), name="alpr-watch-fit", daemon=True)
        self._process.start()
        child.close()

    def grow(self, model: AnomalyModel, X: np.ndarray) -> Trees:
        """``model.grow(X)``, in the worker; in-process if there is none (any more)."""
        if self._conn is not None:
            try:
                self._conn.send((model, X))
                trees = self._conn.recv()
            except (EOFError, OSError) as exc:
                log.warning("the model's fitting process ended early (%s); fitting here instead", exc)
            else:
                if isinstance(trees, BaseException):
                    raise trees
                return trees
            finally:
                self.close()
        return model.grow(X)

    def close(self) -> None:
        """Stop the worker and reap it: it has nothing left to do once it sent its forest, and
        a replay that ends before asking for one (an error, Ctrl-C) must not wait for it."""
        if self._process is not None:  # killed before its pipe closes, so that it never reads an end
            self._process.kill()
            self._process.join()
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
