"""Stateful isolation testing: Hypothesis drives a live engine through sequences of
container and service operations and checks isolation after every step.

Rules create and destroy containers, duplicate the ordinary service and stop or
start it, and plant markers through a container's own services (a service
registration, a named mutex, event or pipe, a registry value, a printer, a
scheduled task, a COM class registration, an RPC interface in the endpoint
mapper) under names drawn by Hypothesis:
non-ASCII, at the documented length limits, and names that a peer
already uses.  After every step (cases/isolation_model.py says what to expect):

- each marker is visible in exactly the container that planted it: not in a peer,
  not on the host side, not in a later container of the same name;
- each container's ordinary service is in the state the model says, and the fixed
  port answers with the identity of the container that holds it.

A failure shrinks to a short sequence of readable steps, printed with the
reproduction blob; docs/hypothesis.md says how to replay it.  This module is not a
cell of the matrix (no SERVICE): it runs on every selected placement, but only when
named on the command line, so that `harness run` does not pay for it each time.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from isolation_model import (
    ABSENT,
    CLSID_KEY,
    DUP_SERVICE,
    EITHER,
    GONE,
    KINDS,
    OTHER_KIND,
    PRESENT,
    REG_KEY,
    STALE,
    Marker,
    MarkerName,
    Model,
    Place,
    describe,
    same_name,
)

from harness import hypothesis_profiles
from harness.lab import Placement
from harness.probe import error_code, probe, tcp_ask
from harness.services import ORDINARY

SLOTS = ("a", "b", "c")  # containers are hyp-a, hyp-b, hyp-c
MAX_LIVE = 3
MAX_CREATED = 3  # per example: bounds the cost and the lab addresses used
NOT_FOUND = {
    "service": 1060,
    "mutex": 2,
    "event": 2,
    "pipe": 2,
    "registry": 2,
    "printer": 1801,  # ERROR_INVALID_PRINTER_NAME
    "task": 0x80070002,  # HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), as unsigned
    "com": 2,  # no key Software\Classes\CLSID\{...}\LocalServer32
    "rpc": 1753,  # EPT_S_NOT_REGISTERED
}
SERVER_UNAVAILABLE = 1722  # RPC_S_SERVER_UNAVAILABLE: a stale mapper entry
TYPE_MISMATCH = 6  # ERROR_INVALID_HANDLE: the name holds an object of another kind
PORT_TAKEN = {10013, 10048}  # WSAEACCES (another prefix), WSAEADDRINUSE
ALREADY_RUNNING, NOT_ACTIVE, NO_SUCH_SERVICE = 1056, 1062, 1060
SERVICE_BINARY = "C:\\harness\\probe.exe"
COM_SERVER = "C:\\harness\\comsrv.exe"
# Serves the interface it is given and registers it in the container's endpoint
# mapper, on dynamic endpoints: two containers on one network never collide.
# Removing the marker asks the server to unregister and end (`proc stop --ask`);
# on Wine 8 the entry stays all the same (tests/test_guest_services_net.py pins
# it), which the model allows in that container only (GONE).
RPC_SERVER = "C:\\harness\\rpcsrv.exe"
RPC_STOP_WAIT = "10"  # seconds for the server to unregister and end


# --- names drawn by Hypothesis ------------------------------------------------------

# Any character but NUL and the path separators, line breaks such as U+2028
# included (the guest's answer is one line ended by "\n" only).
_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\0/\\")
_SEEDS = st.text(_CHARS, min_size=1, max_size=8)
# Letters, digits and -_.: the only names `task register` accepts.
_PLAIN_SEEDS = st.text(
    string.ascii_letters + string.digits + "-_.", min_size=1, max_size=8
)
# CLSIDs in registry form, upper or lower case (the same class either way).
_CLSIDS = st.builds(
    lambda u, upper: f"{{{str(u).upper() if upper else u}}}", st.uuids(), st.booleans()
)
# Interface UUIDs as the endpoint mapper takes them, upper or lower case.
_UUIDS = st.builds(
    lambda u, upper: str(u).upper() if upper else str(u), st.uuids(), st.booleans()
)
_LIMITS = sorted(
    {k.limit for k in KINDS.values() if not k.pattern} | {KINDS["task"].limit}
)


def marker_names() -> st.SearchStrategy[MarkerName]:
    """Short names, names with any character, plain names, CLSIDs, UUIDs, and
    names at a documented limit."""
    at_limit = st.builds(
        MarkerName,
        st.one_of(_SEEDS, _PLAIN_SEEDS),
        st.sampled_from(_LIMITS).flatmap(lambda n: st.sampled_from((n - 1, n))),
    )
    return st.one_of(
        st.builds(MarkerName, _SEEDS),
        st.builds(MarkerName, _PLAIN_SEEDS),
        st.builds(MarkerName, _CLSIDS),
        st.builds(MarkerName, _UUIDS),
        at_limit,
    )


# --- observing a place ---------------------------------------------------------------


def observe(place: Any, marker: Marker) -> tuple[str, dict[str, Any]]:
    """What `place` sees of `marker`: PRESENT, ABSENT, OTHER_KIND, STALE (an RPC
    interface that resolves to a server that is gone) or 'error N'."""
    if marker.kind == "service":
        answer = probe(place, "scm", "query", marker.text)
    elif marker.kind == "registry":
        answer = probe(place, "reg", "get", REG_KEY, marker.text)
    elif marker.kind == "printer":
        answer = probe(place, "spool", "open", marker.text)
    elif marker.kind == "task":
        answer = probe(place, "task", "get", marker.text)
    elif marker.kind == "com":
        # read-only: `com create` would start the server
        answer = probe(place, "reg", "get", CLSID_KEY.format(marker.text), "")
    elif marker.kind == "rpc":
        # resolve through the place's own mapper, then call the server found
        answer = probe(place, "rpc", "call", marker.text)
    else:
        answer = probe(place, "obj", "open", marker.kind, marker.text)
    code = error_code(answer)
    if code is None:
        return PRESENT, answer
    if code == NOT_FOUND[marker.kind]:
        return ABSENT, answer
    if code == TYPE_MISMATCH and marker.kind in ("mutex", "event"):
        return OTHER_KIND, answer
    if code == SERVER_UNAVAILABLE and marker.kind == "rpc":
        return STALE, answer
    return f"error {code}", answer


@dataclasses.dataclass
class Box:
    """A live container of one example; Hypothesis prints it as containers_N."""

    slot: str
    container: Any
    place: Place
    created: int
    servers: dict[Marker, int] = dataclasses.field(default_factory=dict)  # rpcsrv

    def __repr__(self) -> str:
        return f"<hyp-{self.slot} #{self.created}>"


# --- the machine ---------------------------------------------------------------------


class IsolationMachine(RuleBasedStateMachine):
    """Containers, markers and the ordinary service on one live engine."""

    engine: Any = None  # set per placement by test_isolation
    shared_network = False

    containers = Bundle("containers")
    names = Bundle("names")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model(self.shared_network)
        self.live: dict[str, Box] = {}
        self.created = 0
        self.tokens = itertools.count(1)
        self.host = self.engine.host_side()

    # containers

    @initialize(target=containers)
    def first_containers(self) -> Any:
        """Two containers from the start: isolation needs a peer to look from."""
        return multiple(self._create("a"), self._create("b"))

    @initialize(target=names, first=marker_names(), second=marker_names())
    def first_names(self, first: MarkerName, second: MarkerName) -> Any:
        return multiple(first, second)

    @precondition(lambda self: len(self.live) < MAX_LIVE)
    @rule(target=containers, slot=st.sampled_from(SLOTS))
    def create_container(self, slot: str) -> Any:
        """A fresh container hyp-SLOT (nothing when it exists or the example has
        made MAX_CREATED containers: they cost seconds each)."""
        if slot in self.live or self.created >= MAX_CREATED:
            return multiple()
        return self._create(slot)

    @rule(container=consumes(containers))
    def destroy_container(self, container: Box) -> None:
        self.engine.destroy(container.container)
        del self.live[container.slot]
        del self.model.places[container.slot]
        note(f"destroyed hyp-{container.slot}")

    def _create(self, slot: str) -> Box:
        self.created += 1
        made = self.engine.create_container(f"hyp-{slot}")
        box = Box(slot, made, Place(slot), self.created)
        self.live[slot] = box
        self.model.places[slot] = box.place
        note(f"hyp-{slot} is {made.identity} at {made.address}")
        return box

    # markers

    @rule(
        target=names,
        container=containers,
        kind=st.sampled_from(sorted(KINDS)),
        name=st.one_of(names, marker_names()),
    )
    def plant(self, container: Box, kind: str, name: MarkerName) -> MarkerName:
        """Plant a marker under a new name or one used before (by any container);
        the name is kept for later steps."""
        marker = Marker(kind, name.text)
        if not self._plantable(container, marker, name):
            return name
        answer = self._plant(container, marker)
        assert error_code(answer) is None, (
            f"hyp-{container.slot} could not plant {marker}: {answer}"
        )
        assert not answer.get("existed"), (
            f"hyp-{container.slot} found {marker} already taken before planting it: "
            f"the name is visible from another container or the host: {answer}"
        )
        container.place.markers.add(marker)
        self.model.planted.add(marker)
        if marker.kind == "rpc":
            container.servers[marker] = int(answer["pid"])
        note(f"hyp-{container.slot} planted {marker}")
        return name

    @rule(
        target=names,
        container=containers,
        name=st.one_of(
            names,
            st.builds(MarkerName, _PLAIN_SEEDS),
            st.builds(MarkerName, _CLSIDS),
            st.builds(MarkerName, _UUIDS),
        ),
    )
    def plant_task_class_or_interface(
        self, container: Box, name: MarkerName
    ) -> MarkerName:
        """Plant a COM class when the name is a CLSID, an RPC interface when it is a
        UUID, else a scheduled task: the names these kinds accept are too rare
        among those `plant` draws."""
        kind = next(
            (k for k in ("com", "rpc") if name.fits(KINDS[k])),
            "task",
        )
        return self.plant(container, kind, name)

    @rule(
        container=containers,
        which=st.integers(0, 15),
        kind=st.one_of(st.none(), st.sampled_from(sorted(KINDS))),
    )
    def plant_a_peers_name(self, container: Box, which: int, kind: str | None) -> None:
        """Plant the which-th (modulo) name that another container, live or
        destroyed, has planted: as the same kind (kind None) or as `kind`."""
        mine = container.place.markers
        theirs = sorted(self.model.planted - mine)
        if not theirs:
            return
        peer = theirs[which % len(theirs)]
        note(f"hyp-{container.slot} reuses the name of {peer}")
        self.plant(container, kind or peer.kind, MarkerName(peer.text))

    def _plantable(self, box: Box, marker: Marker, name: MarkerName) -> bool:
        """Skip what would test naming rules rather than isolation."""
        if (
            marker.kind == "service"
            and same_name(KINDS["service"], marker.text, DUP_SERVICE) is not False
        ):
            note(f"skipped: {DUP_SERVICE} is the ordinary service's name")
        elif not name.fits(KINDS[marker.kind]):
            note(f"skipped: {name!r} is not a valid {marker.kind} name ({marker})")
        elif self.model.clash(box.place, marker):
            note(f"skipped: hyp-{box.slot} already holds a {marker.kind} of that name")
        elif marker not in self.model.planted and observe(self.host, marker)[0] not in (
            ABSENT,
        ):
            note(f"skipped: the golden prefix itself has {marker}")
        else:
            return True
        return False

    def _plant(self, box: Box, marker: Marker) -> dict[str, Any]:
        place = box.container
        if marker.kind == "service":
            return probe(place, "scm", "create", marker.text, SERVICE_BINARY)
        if marker.kind == "registry":
            data = f"{place.identity}#{next(self.tokens)}"
            box.place.registry[marker.text] = data
            return probe(place, "reg", "set", REG_KEY, marker.text, data)
        if marker.kind == "printer":
            return probe(place, "spool", "add", marker.text)
        if marker.kind == "task":
            # the description: letters, digits, -_.: and spaces only
            text = f"hyp-{box.slot} {box.created} {next(self.tokens)}"
            box.place.content[marker] = text
            return probe(place, "task", "register", marker.text, text)
        if marker.kind == "com":
            box.place.content[marker] = f'"{COM_SERVER}" {marker.text}'
            return probe(place, "com", "register", marker.text)
        if marker.kind == "rpc":
            box.place.content[marker] = place.identity
            return probe(place, "proc", "start", RPC_SERVER, marker.text)
        return probe(place, "obj", "create", marker.kind, marker.text)

    @rule(container=containers, which=st.integers(0, 15))
    def remove_marker(self, container: Box, which: int) -> None:
        """Remove the which-th (modulo) marker this container planted."""
        held = sorted(
            m for m in container.place.markers if m != Marker("service", DUP_SERVICE)
        )
        if not held:
            return
        marker = held[which % len(held)]
        note(f"hyp-{container.slot} removes {marker}")
        answer = self._remove(container, marker)
        assert error_code(answer) is None, f"could not remove {marker}: {answer}"
        container.place.markers.discard(marker)
        container.place.content.pop(marker, None)
        if marker.kind == "registry":
            container.place.registry.pop(marker.text, None)
        if marker.kind == "rpc":
            container.place.removed.add(marker)

    def _remove(self, box: Box, marker: Marker) -> dict[str, Any]:
        place = box.container
        if marker.kind == "rpc":
            pid = str(box.servers.pop(marker))
            answer = probe(place, "proc", "stop", pid, "--ask", RPC_STOP_WAIT)
            assert (answer.get("how"), answer.get("exit_code")) == ("asked", 0), (
                f"the RPC server of {marker} did not unregister and end: {answer}"
            )
            return answer
        if marker.kind == "service":
            return probe(place, "scm", "delete", marker.text)
        if marker.kind == "registry":
            return probe(place, "reg", "delete", REG_KEY, marker.text)
        if marker.kind == "printer":
            return probe(place, "spool", "delete", marker.text)
        if marker.kind == "task":
            return probe(place, "task", "delete", marker.text)
        if marker.kind == "com":
            return probe(place, "com", "unregister", marker.text)
        return probe(place, "obj", "close", marker.kind, marker.text)

    # the ordinary service

    @rule(container=containers)
    def duplicate_ordinary(self, container: Box) -> None:
        marker = Marker("service", DUP_SERVICE)
        if self.model.clash(container.place, marker):
            return
        taken = self.model.port_taken_for(container.place)
        note(f"duplicate {DUP_SERVICE} into hyp-{container.slot}, port taken: {taken}")
        results = self.engine.duplicate(container.container, ORDINARY)
        answers = [json.loads(r.stdout.strip().split("\n")[-1]) for r in results]
        assert error_code(answers[0]) is None, f"could not register: {answers[0]}"
        container.place.markers.add(marker)
        self.model.planted.add(marker)
        self._expect_start(container, answers[-1], taken)

    @rule(container=containers, action=st.sampled_from(("stop", "start")))
    def control_ordinary(self, container: Box, action: str) -> None:
        """Stop or start the container's ordinary service through its own SCM."""
        state = container.place.dup
        taken = self.model.port_taken_for(container.place)
        answer = probe(container.container, "scm", action, DUP_SERVICE)
        note(f"{action} {DUP_SERVICE} in hyp-{container.slot} ({state}): {answer}")
        if action == "start" and state == "STOPPED":
            self._expect_start(container, answer, taken)
            return
        expected = {
            None: NO_SUCH_SERVICE,
            "RUNNING": {"stop": None, "start": ALREADY_RUNNING}[action],
            "STOPPED": NOT_ACTIVE,
        }[state]
        assert error_code(answer) == expected, (
            f"{action} {DUP_SERVICE} in hyp-{container.slot} ({state}): {answer}"
        )
        if action == "stop" and state == "RUNNING":
            container.place.dup = "STOPPED"
            self._expect_port()

    def _expect_start(self, box: Box, answer: dict[str, Any], taken: bool) -> None:
        """A start succeeds unless a shared network gives the port to another
        container; then the service ends STOPPED with the socket error."""
        if taken:
            assert error_code(answer) in PORT_TAKEN, (
                f"{DUP_SERVICE} of hyp-{box.slot} started although another "
                f"container holds port {ORDINARY.port} on the shared network: {answer}"
            )
            box.place.dup = "STOPPED"
        else:
            assert answer.get("state") == "RUNNING", (
                f"{DUP_SERVICE} did not start in hyp-{box.slot}: {answer}"
            )
            box.place.dup = "RUNNING"
        self._expect_port()

    def _expect_port(self) -> None:
        """The fixed port of each live container answers with the right identity."""
        client = self.engine.client()
        asked = set()
        for box in self.live.values():
            if box.container.address in asked:
                continue  # a shared network: one address, one owner of the port
            asked.add(box.container.address)
            owner = box.place if box.place.dup == "RUNNING" else None
            if self.shared_network:
                owner = self.model.port_owner()
            reply = tcp_ask(client, box.container.address, ORDINARY.port)
            got = json.loads(reply["answer"]).get("identity") if reply["ok"] else None
            want = self.live[owner.name].container.identity if owner else None
            assert got == want, (
                f"port {ORDINARY.port} of hyp-{box.slot} answered {reply}, "
                f"expected the identity {want}"
            )

    # invariants

    @invariant()
    def markers_only_where_planted(self) -> None:
        wrong = []
        places = [(None, self.host)] + [
            (b.place, b.container) for b in self.live.values()
        ]
        for marker in sorted(self.model.planted):
            for place, container in places:
                wrong += self._check(place, container, marker)
        assert not wrong, "isolation broken:\n" + "\n".join(wrong)

    def _check(self, place: Place | None, container: Any, marker: Marker) -> list[str]:
        want = self.model.expected(place, marker)
        got, answer = observe(container, marker)
        where = container.name if place is None else f"hyp-{place.name}"
        if want == EITHER or want == got == ABSENT or want == got == OTHER_KIND:
            return []
        if want == GONE and got in (ABSENT, STALE):
            return []
        if want != got:
            held = describe(place.markers) if place else "nothing"
            return [
                f"{where} sees {marker} as {got}, expected {want} "
                f"(it holds {held}): {answer}"
            ]
        return self._check_content(place, where, marker, answer)

    @staticmethod
    def _check_content(
        place: Place | None, where: str, marker: Marker, answer: dict[str, Any]
    ) -> list[str]:
        assert place is not None
        if marker.kind == "registry":
            data = place.registry.get(marker.text)
            if data is not None and answer.get("data") != data:
                return [
                    f"{where} reads {marker} = {answer.get('data')!r}, "
                    f"but planted {data!r}"
                ]
        content = place.content.get(marker)
        field = {"task": "description", "com": "data", "rpc": "identity"}.get(
            marker.kind, ""
        )
        if content is not None and answer.get(field) != content:
            return [
                f"{where} reads {marker} as {answer.get(field)!r}, "
                f"but planted {content!r}"
            ]
        if marker.kind == "service":
            state = place.dup if marker.text == DUP_SERVICE else "STOPPED"
            if answer.get("state") != state:
                return [
                    f"{where}: {marker} is {answer.get('state')}, "
                    f"expected {state}: {answer}"
                ]
        return []

    def teardown(self) -> None:
        for box in list(self.live.values()):
            self.engine.destroy(box.container)
        self.live.clear()


# --- running it on each selected placement -------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_under_test" not in metafunc.fixturenames:
        return
    plugin = metafunc.config.pluginmanager.get_plugin("harness-state")
    if not _named_on_command_line(metafunc.config):
        params = [
            pytest.param(None, id="not-named", marks=pytest.mark.skip(reason=NOT_NAMED))
        ]
    else:
        placements = sorted({(c.platform, c.engine) for c in plugin.selected()})
        params = [
            pytest.param(
                Placement(*p),
                id=f"{p[0]}/{p[1]}",
                marks=pytest.mark.xdist_group(f"{p[0]}/{p[1]}"),
            )
            for p in placements
        ]
    metafunc.parametrize("engine_under_test", params, scope="module")


NOT_NAMED = (
    "the stateful isolation machine runs only when named: "
    "pytest cases/test_isolation_state.py"
)


def _named_on_command_line(config: pytest.Config) -> bool:
    here = Path(__file__).resolve()
    for arg in config.invocation_params.args:
        path = Path(config.invocation_params.dir, str(arg).split("::")[0])
        if path.exists() and path.resolve() == here:
            return True
    return os.environ.get("HARNESS_STATEFUL") == "1"


def test_isolation(request: pytest.FixtureRequest, engine_under_test: Placement):
    """Run the machine on the prepared engine of one placement."""
    plugin = request.config.pluginmanager.get_plugin("harness-state")
    lab = plugin.lab_for_run()
    engine = lab.engine(engine_under_test)
    shared = lab.matrix.engines[engine_under_test.engine].options.get("network")
    machine = type(
        f"IsolationMachine_{engine_under_test.engine.replace('-', '_')}",
        (IsolationMachine,),
        {"engine": engine, "shared_network": shared == "shared"},
    )
    run_state_machine_as_test(
        hypothesis_profiles.replayable(machine),
        settings=hypothesis_profiles.live_settings(),
    )
