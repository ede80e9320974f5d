"""matrix.yaml: validation messages, expansion order, filters and shards."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness import matrix
from harness.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
version: 1
platforms:
  wine-8: {target: local, os: wine, default: true}
  win2022: {target: vagrant, os: windows, box: some/box}
engines:
  wine: {kind: wine, platforms: [wine-8]}
  wine-shared: {kind: wine, platforms: [wine-8]}
  command: {kind: command,platforms: [win2022],options: {create: c,exec: e,destroy: d}}
services: [ordinary]
exclude:
  - {engine: wine-shared, check: serves}
known_issues:
  - platform: wine-8
    engine: wine
    service: ordinary
    check: isolated
    outcome: failed
    reason: a reason that is long enough
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        matrix.load(write(tmp_path, text))
    return str(caught.value)


def test_the_default_matrix_is_valid():
    m = matrix.load(ROOT / "matrix.yaml")
    assert matrix.select(m), "the default matrix selects no cell"


def test_expansion_is_sorted_and_applies_exclusions(tmp_path):
    cells = matrix.expand(matrix.load(write(tmp_path, GOOD)))
    ids = [c.id for c in cells]
    assert ids == [
        "win2022/command/ordinary/starts",
        "win2022/command/ordinary/serves",
        "win2022/command/ordinary/isolated",
        "wine-8/wine/ordinary/starts",
        "wine-8/wine/ordinary/serves",
        "wine-8/wine/ordinary/isolated",
        "wine-8/wine-shared/ordinary/starts",
        "wine-8/wine-shared/ordinary/isolated",
    ]


def test_default_platforms_only_unless_named(tmp_path):
    m = matrix.load(write(tmp_path, GOOD))
    assert {c.platform for c in matrix.select(m)} == {"wine-8"}
    named = matrix.select(m, matrix.Filters(platforms=["win2022"]))
    assert {c.platform for c in named} == {"win2022"}


def test_known_issue_is_found_for_its_cell(tmp_path):
    m = matrix.load(write(tmp_path, GOOD))
    cell = matrix.Cell("wine-8", "wine", "ordinary", "isolated")
    assert matrix.known_issue(m, cell).outcome == "failed"
    assert (
        matrix.known_issue(m, matrix.Cell("wine-8", "wine", "ordinary", "starts"))
        is None
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "target: local, os: wine, default: true",
            "target: lokal, os: wine, default: true",
            ":3: platforms.wine-8.target: got 'lokal'; allowed values: 'local', "
            "'vagrant', 'inventory'",
        ),
        (
            "{kind: wine, platforms: [wine-8]}\n  wine-shared",
            "{kind: wine, platforms: [wine-9]}\n  wine-shared",
            ":6: engines.wine.platforms[0]: unknown platform 'wine-9'; allowed values: "
            "win2022, wine-8",
        ),
        (
            "services: [ordinary]",
            "services: [ordinary, fax]",
            ":9: services[1]: unknown service 'fax'; allowed values: bits, dcom",
        ),
        (
            "box: some/box}",
            "box: some/box, colour: red}",
            ":4: platforms.win2022.colour: unknown key 'colour'; allowed keys: target, "
            "os, default",
        ),
        (
            "check: isolated",
            "check: isolatd",
            ":16: known_issues[0].check: got 'isolatd'; allowed values: 'starts', "
            "'serves', 'isolated'",
        ),
        (
            "  - platform: wine-8",
            "  - platform: win2022",
            ":13: known_issues[0]: names no cell of the matrix",
        ),
        ("version: 1", "version: 2", ":1: version: got 2; allowed values: 1"),
        (
            "target: local, os: wine, default: true",
            'target: local, os: wine, default: "true"',
            ":3: platforms.wine-8.default: must be true or false; got 'true'",
        ),
        (
            "services: [ordinary]",
            "services: [ordinary]\nchecks: [starts, serves, starts]",
            ":10: checks: a check is listed twice",
        ),
        (
            "services: [ordinary]",
            "services: [ordinary]\nchecks: [starts, serves]",
            ":14: known_issues[0]: names no cell of the matrix: check 'isolated' "
            "is not in checks (listed: starts, serves); list it there or remove "
            "this entry",
        ),
        (
            "    service: ordinary",
            "    service: fax",
            ":15: known_issues[0].service: unknown service 'fax'; allowed values: "
            "ordinary",
        ),
        (
            "    service: ordinary",
            "    service: spooler",
            ":15: known_issues[0].service: service 'spooler' is not in services "
            "(listed: ordinary); list it there or remove this entry",
        ),
        (
            "platforms:\n",
            "platforms:\n  spare: 3\n",
            ":3: platforms.spare: must be a mapping with keys: target, os,",
        ),
        (
            "exclude:",
            "exclude: {platform: wine-8}\nx:",
            ":10: exclude: must be a list; got a mapping",
        ),
        (
            "  wine: {kind",
            "  wine: {kind: wine, platforms: []}\n  wine: {kind",
            ":7: engines.wine: duplicate key 'wine'",
        ),
        (
            "platforms:\n  wine-8",
            "platforms:\n  Wine 8",
            "'Wine 8' is not a valid name",
        ),
        ("exclude:", "exclude: [", "YAML syntax error"),
        (
            "wine: {kind: wine, platforms: [wine-8]}",
            "wine: {kind: wine, platforms: [wine-8], options: {network: bogus}}",
            ":6: engines.wine.options.network: got 'bogus'; allowed values: "
            "'isolated', 'shared'",
        ),
        (
            "wine-shared: {kind: wine, platforms: [wine-8]}",
            "wine-shared: {kind: wine, platforms: [wine-8], options: {netwrk: 1}}",
            ":7: engines.wine-shared.options.netwrk: unknown key 'netwrk'; "
            "allowed keys: network",
        ),
        (
            "options: {create: c,exec: e,destroy: d}",
            "options: {create: c,destroy: d}",
            ":8: engines.command.options.exec: required key 'exec' is missing",
        ),
        (
            "  - {engine: wine-shared, check: serves}",
            "  - {engine: command, platform: wine-8}",
            ":11: exclude[0]: matches no cell of the matrix",
        ),
        (
            "command: {kind: command,platforms: [win2022]",
            "command: {kind: command,platforms: [wine-8]",
            ":8: engines.command.platforms[0]: wine-8 has os: wine, but a command "
            "engine runs on os: windows platforms; allowed values: win2022",
        ),
        (
            "wine: {kind: wine, platforms: [wine-8]}",
            "wine: {kind: wine, platforms: [wine-8, win2022]}",
            ":6: engines.wine.platforms[1]: win2022 has os: windows, but a wine "
            "engine runs on os: wine platforms; allowed values: wine-8",
        ),
        (
            "target: local, os: wine, default: true",
            "target: vagrant, os: wine, default: true",
            ":3: platforms.wine-8.target: got 'vagrant', but os: wine platforms "
            "come from another target; allowed values: local",
        ),
        (
            "options: {create: c,exec: e,destroy: d}",
            "options: {create: 'c {containr}',exec: e,destroy: d}",
            ":8: engines.command.options.create: unknown placeholder {containr}; "
            "known: {container}, {name}, {label}",
        ),
        (
            "options: {create: c,exec: e,destroy: d}",
            "options: {create: c,exec: 'e {argv',destroy: d}",
            ":8: engines.command.options.exec: expected '}' before end of string "
            "(write {{ and }} for braces)",
        ),
        (
            "command: {kind: command,",
            "command: {kind: command,install: 'i {artifakt}',",
            ":8: engines.command.install: unknown placeholder {artifakt}; "
            "known: {artifact}",
        ),
        ("services: [ordinary]", "checks: []\nservices: [ordinary]", "checks: "),
        ("services: [ordinary]\n", "", "services: required key 'services' is missing"),
    ],
)
@pytest.mark.bad_input
def test_errors_name_file_line_key_and_allowed_values(tmp_path, old, new, expected):
    assert old in GOOD
    message = error_of(tmp_path, GOOD.replace(old, new, 1))
    assert str(tmp_path / "matrix.yaml") in message
    assert expected in message


DOCKER = """\
version: 1
platforms:
  win2022: {target: vagrant, os: windows, box: some/box}
  win2019: {target: vagrant, os: windows, box: some/box}
engines:
  docker:
    kind: windows-containers
    platforms: [win2022]
    options:
      network: transparent
      images: {win2022: servercore:ltsc2022}
      addresses: {win2022: 192.168.56.120-192.168.56.129}
services: [ordinary]
"""


def test_windows_containers_options_load_as_written(tmp_path):
    engine = matrix.load(write(tmp_path, DOCKER)).engines["docker"]
    assert engine.options["addresses"] == {"win2022": "192.168.56.120-192.168.56.129"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "192.168.56.120-192.168.56.129",
            "banana",
            ":12: engines.docker.options.addresses.win2022: 'banana' is not a range "
            "FIRST-LAST of IP addresses (e.g. 192.168.56.120-192.168.56.129)",
        ),
        (
            "192.168.56.120-192.168.56.129",
            "192.168.56.129-192.168.56.120",
            ":12: engines.docker.options.addresses.win2022: '192.168.56.129-"
            "192.168.56.120' is not a range FIRST-LAST of one IP version, FIRST "
            "not after LAST",
        ),
        (
            "images: {win2022: servercore:ltsc2022}",
            "images: {win2022: servercore:ltsc2022, win2019: servercore:ltsc2019}",
            ":11: engines.docker.options.images.win2019: names platform 'win2019', "
            "which is not in the engine's platforms; allowed values: win2022",
        ),
        (
            "addresses: {win2022",
            "addresses: {win2019: 192.168.56.110-192.168.56.119, win2022",
            ":12: engines.docker.options.addresses.win2019: names platform 'win2019'",
        ),
        (
            "      addresses: {win2022: 192.168.56.120-192.168.56.129}\n",
            "",
            ":9: engines.docker.options.addresses: network: transparent needs the "
            "containers' lab addresses of win2022",
        ),
        (
            "images: {win2022: servercore:ltsc2022}",
            "images: {}",
            ":11: engines.docker.options.images: no image for win2022",
        ),
    ],
)
@pytest.mark.bad_input
def test_windows_containers_options_name_their_platforms(tmp_path, old, new, expected):
    assert old in DOCKER
    message = error_of(tmp_path, DOCKER.replace(old, new, 1))
    assert expected in message


INVENTORY = """\
version: 1
platforms:
  lab:
    target: inventory
    os: windows
    winrm: {ca_trust_path: certs/lab.pem}
    hosts:
      - {address: 192.0.2.10, options: {ca_trust_path: HOST}}
engines:
  sb: {kind: sandboxie, platforms: [lab]}
services: [ordinary]
"""


@pytest.mark.bad_input
def test_a_trust_file_that_does_not_exist_is_named(tmp_path):
    message = error_of(tmp_path, INVENTORY.replace("HOST", "/nowhere/ca.pem"))
    missing = tmp_path / "certs" / "lab.pem"
    assert (
        f":6: platforms.lab.winrm.ca_trust_path: certs/lab.pem: no such file "
        f"({missing})" in message
    )
    assert (
        ":8: platforms.lab.hosts[0].options.ca_trust_path: /nowhere/ca.pem: "
        "no such file;" in message
    )


def test_trust_files_are_found_beside_the_matrix_file(tmp_path, monkeypatch):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "lab.pem").write_text("PEM\n")
    path = write(tmp_path, INVENTORY.replace("HOST", "certs/lab.pem"))
    monkeypatch.chdir("/")
    lab = matrix.load(path).platforms["lab"]
    expected = str(tmp_path / "certs" / "lab.pem")
    assert lab.winrm["ca_trust_path"] == expected
    assert lab.hosts[0]["options"]["ca_trust_path"] == expected


HOSTS = """\
version: 1
platforms:
  lab:
    target: inventory
    os: windows
    hosts:
      - {address: 192.0.2.10}
  vm: {target: vagrant, os: windows, box: some/box}
engines:
  sb: {kind: sandboxie, platforms: [lab, vm]}
services: [ordinary]
"""
HOST = "{address: 192.0.2.10}"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            HOST,
            "{address: 192.0.2.10, port: abc}",
            ":7: platforms.lab.hosts[0].port: 'abc'; allowed values: 1 to 65535",
        ),
        (
            HOST,
            "{address: 192.0.2.10, colour: red}",
            ":7: platforms.lab.hosts[0]: unknown key 'colour'; allowed keys: name, ",
        ),
        (
            HOST,
            "{address: 192.0.2.10, password: hunter2}",
            ":7: platforms.lab.hosts[0].password: credentials never go in matrix.yaml",
        ),
        (
            f"    hosts:\n      - {HOST}\n",
            "    hosts: []\n",
            ":6: platforms.lab.hosts: lists at least one host",
        ),
        (
            HOST,
            "{address: 192.0.2.10, options: {auth: basic}}",
            ":7: platforms.lab.hosts[0].auth: 'basic' cannot encrypt messages, which "
            "plain HTTP needs; allowed values over http: ntlm, kerberos, credssp",
        ),
        (
            HOST,
            "{address: 192.0.2.10, scheme: ftp}",
            ":7: platforms.lab.hosts[0]: scheme 'ftp' is not http or https",
        ),
        (
            "box: some/box}",
            "box: some/box, winrm: {reboot_grace: soon}}",
            ":8: platforms.vm.winrm.reboot_grace: 'soon': could not convert",
        ),
        (
            "box: some/box}",
            "box: some/box, winrm: {operation_timeout: .inf}}",
            ":8: platforms.vm.winrm.operation_timeout: inf: cannot convert",
        ),
    ],
)
@pytest.mark.bad_input
def test_hosts_and_winrm_options_are_checked_at_load(tmp_path, old, new, expected):
    assert old in HOSTS
    message = error_of(tmp_path, HOSTS.replace(old, new, 1))
    assert expected in message
    assert "hunter2" not in message


def test_a_file_that_is_not_a_mapping(tmp_path):
    assert "must be a mapping" in error_of(tmp_path, "- 1\n- 2\n")


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as raised:
        matrix.load(tmp_path / "absent.yaml")
    # the file, and no line: there is none
    assert str(raised.value) == (
        f"{tmp_path / 'absent.yaml'}: cannot read: No such file or directory"
    )


def test_an_unknown_service_is_not_offered_as_an_allowed_value(tmp_path):
    text = GOOD.replace("services: [ordinary]", "services: [ordinary, fax]")
    message = error_of(tmp_path, text)
    assert "services[1]: unknown service 'fax'" in message
    assert ":15: known_issues[0]" not in message  # ordinary is listed: no error
    text = text.replace("    service: ordinary", "    service: bits")
    message = error_of(tmp_path, text)
    assert (
        "known_issues[0].service: service 'bits' is not in services (listed: ordinary)"
    ) in message


@pytest.mark.bad_input
def test_unknown_filter_values_list_the_valid_ones(tmp_path):
    m = matrix.load(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="--service 'fax' .*allowed values: ordinary"):
        matrix.select(m, matrix.Filters(services=["fax"]))


def test_filters_select_exactly_the_matching_cells(tmp_path):
    m = matrix.load(write(tmp_path, GOOD))
    cells = matrix.select(m, matrix.Filters(engines=["wine"], checks=["serves"]))
    assert [c.id for c in cells] == ["wine-8/wine/ordinary/serves"]


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_are_disjoint_and_cover_every_cell(tmp_path, count):
    m = matrix.load(write(tmp_path, GOOD))
    every = matrix.select(m, matrix.Filters(platforms=["wine-8", "win2022"]))
    shares = [matrix.shard(every, i, count) for i in range(1, count + 1)]
    flat = [c for share in shares for c in share]
    assert sorted(flat, key=matrix.Cell.sort_key) == every
    assert len(flat) == len(set(flat))


@pytest.mark.bad_input
@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1", "1/2/3"])
def test_bad_shards_are_config_errors(text):
    with pytest.raises(ConfigError, match="--shard"):
        index, count = matrix.parse_shard(text)
        matrix.shard([], index, count)
