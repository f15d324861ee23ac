"""The guide read as data: every fenced block of the guide classified, on excerpts
copied from the guide (each checked to still be in it) and on the whole guide."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.examples import rules
from harness.examples.assess import Status, assess_all, run_images
from harness.examples.listing import summary, to_json
from harness.examples.outputs import difference
from harness.examples.parse import anchor, classify, parse
from harness.examples.plan import Plan, expected_exits, plan
from harness.examples.structure import BlockKind, Example
from harness.guide import revisions
from harness.guide_sections import headings

#: The seed revision of the guide, whose examples these tests cite by line.
GUIDE = Path(__file__).resolve().parent.parent / "harness" / "data" / "guide" / "707d6f6.md"
BIN = Path(sys.executable).parent

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "guide_examples"


def _excerpt(name: str) -> str:
    """An excerpt copied from the guide (kept as a file: the guide's own whitespace)."""
    return (FIXTURES / f"{name}.md").read_text(encoding="utf-8")


SOCKET_ACTIVATION = _excerpt("socket_activation")
HOST2_AND_OUTPUT = _excerpt("host2_and_output")
NETAVARK = _excerpt("netavark")
REPLACE_LINE = _excerpt("replace_line")
ADD_LINES = _excerpt("add_lines")
MERMAID = _excerpt("mermaid")
SAMPLE = _excerpt("sample")
SKETCH = _excerpt("sketch")
LOOSE_COMMAND = _excerpt("loose_command")
INLINE_STEPS = _excerpt("inline_steps")
EXPERIMENTAL = _excerpt("experimental")

EXCERPTS = (SOCKET_ACTIVATION, HOST2_AND_OUTPUT, NETAVARK, REPLACE_LINE, ADD_LINES, MERMAID,
            SAMPLE, SKETCH, LOOSE_COMMAND, INLINE_STEPS, EXPERIMENTAL)


def _in_section(text: str, heading: str = "## Excerpt") -> str:
    return f"{heading}\n\n{text}" if not text.startswith("#") else text


def _one(text: str) -> Example:
    examples = parse(_in_section(text))
    assert len(examples) == 1
    return examples[0]


def test_every_excerpt_is_copied_from_the_guide() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for excerpt in EXCERPTS:
        for piece in excerpt.split("\n\n"):
            assert piece in guide, piece


def test_the_guide_read_by_default_is_the_newest_revision_as_in_docs() -> None:
    """docs/guide.md is the newest revision podnet ships, the one it judges by default."""
    docs = Path(__file__).resolve().parent.parent / "docs" / "guide.md"
    assert revisions.selected().text == revisions.newest().text == docs.read_text(encoding="utf-8")


def test_file_to_create_with_its_path_and_guide_line_numbers() -> None:
    example = _one(SOCKET_ACTIVATION)
    (block,) = example.blocks
    assert block.kind is BlockKind.FILE
    assert block.path == "/home/test/.config/containers/systemd/nginx.container"
    assert (block.line, block.end_line) == (4, 12)
    assert example.steps[0].number == "4"
    assert example.id == "example-socket-activation-systemd-user-service---source-address-preserved"
    offset = GUIDE.read_text(encoding="utf-8").splitlines().index(
        "4. Create the file _/home/test/.config/containers/systemd/nginx.container_ containing")
    real = next(e for e in parse(GUIDE.read_text(encoding="utf-8")) if e.id == example.id)
    assert any(b.line == offset + 2 and b.kind is BlockKind.FILE for b in real.blocks)


def test_command_on_host2_and_output_of_the_command_before_it() -> None:
    example = _one(HOST2_AND_OUTPUT)
    numbers = [step.number for step in example.steps]
    assert numbers == ["9", "9.1", "9.2", "9.3", "10"]
    curl, logs, output = example.blocks
    assert curl.kind is BlockKind.COMMAND and curl.host == "host2"
    assert curl.commands == ("curl host1.example.com:8080",)
    assert logs.kind is BlockKind.COMMAND and logs.host == "host1"
    assert output.kind is BlockKind.OUTPUT and output.output_of == logs.line
    assert output.approximate


def test_session_and_prompt_only_command() -> None:
    create, inspect = _one(NETAVARK).blocks
    assert create.kind is BlockKind.COMMAND and create.commands == ("podman network create mynet",)
    assert inspect.kind is BlockKind.SESSION
    assert inspect.commands[0].startswith("podman container inspect -l")
    assert inspect.output == "10.89.0.2"


def test_edits_replace_with_and_add() -> None:
    old, new = _one(REPLACE_LINE).blocks
    assert (old.kind, old.edit, old.path) == (BlockKind.EDIT, "replace",
                                              "~/.config/containers/containers.conf")
    assert (new.kind, new.edit, new.path) == (BlockKind.EDIT, "with", old.path)
    (add,) = _one(ADD_LINES).blocks
    assert (add.kind, add.edit) == (BlockKind.EDIT, "add")
    assert add.path == "~/.config/containers/systemd/example.container"


@pytest.mark.parametrize("excerpt, why", [
    (MERMAID, "a diagram"), (SAMPLE, "could look like this"), (SKETCH, "similar to this"),
    (EXPERIMENTAL, "shown for explanation"),
])
def test_other_blocks_say_why(excerpt: str, why: str) -> None:
    (block,) = _one(excerpt).blocks
    assert block.kind is BlockKind.OTHER
    assert why in block.why


def test_loose_block_is_a_command_by_its_first_word() -> None:
    (block,) = _one(LOOSE_COMMAND).blocks
    assert block.kind is BlockKind.COMMAND
    assert block.commands == ("podman run --rm --network=slirp4netns:allow_host_loopback=true "
                              "registry.fedoraproject.org/fedora curl 10.0.2.2:8080",)


def test_inline_command_steps_numbered_as_rendered() -> None:
    example = _one(INLINE_STEPS)
    assert [s.number for s in example.steps] == ["1", "2", "3", "4", "5"]
    assert example.steps[1].inline_command == "sudo machinectl shell --uid=user1"
    assert example.steps[4].inline_command is None
    assert example.steps[4].blocks[0].kind is BlockKind.COMMAND


def test_experimental_status() -> None:
    assert _one(EXPERIMENTAL).experimental
    assert not _one(SAMPLE).experimental


def test_wrong_world_without_the_deciding_phrase() -> None:
    """The same block, its lead-in phrase changed, is classified otherwise."""
    text = "[Network]\n"
    assert classify("", text, "Create the file _x/mynet.network_ containing", False).kind \
        is BlockKind.FILE
    other = classify("", text, "Look at the file _x/mynet.network_", False)
    assert other.kind is BlockKind.OTHER and "excerpt" in other.why
    assert classify("", text, "Look at the file", True).kind is BlockKind.COMMAND
    assert classify("", "hello\n", "The following output is printed", False).kind \
        is BlockKind.OUTPUT


def _independent_fences(text: str) -> list[int]:
    """Opening fence lines (1-based), by a line scan that knows nothing of Markdown."""
    opened: list[int] = []
    inside: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"^\s*(`{3,}|~{3,})", line)
        if not match:
            continue
        if inside is None:
            inside = match.group(1)
            opened.append(number)
        elif match.group(1).startswith(inside) and not line.strip()[len(match.group(1)):].strip():
            inside = None
    return opened


def test_every_fenced_block_of_the_guide_is_classified() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    examples = parse(text)
    blocks = [block for example in examples for block in example.blocks]
    assert sorted(block.line for block in blocks) == _independent_fences(text)
    assert len(blocks) == text.count("```") // 2
    for block in blocks:
        assert block.kind in BlockKind and block.why, block.line
        if block.kind in (BlockKind.FILE, BlockKind.EDIT):
            assert block.path, block.line
        if block.kind is BlockKind.OUTPUT:
            assert block.output_of is not None and block.output_of < block.line, block.line
        if block.kind in (BlockKind.COMMAND, BlockKind.SESSION):
            assert block.commands, block.line
    kinds = {block.kind for block in blocks}
    assert kinds == set(BlockKind)


def test_example_ids_are_githubs_anchors() -> None:
    anchors = {a for a, _ in headings()}
    ids = [example.id for example in parse(GUIDE.read_text(encoding="utf-8"))]
    assert ids and all(f"#{ident}" in anchors for ident in ids), ids
    assert "about-the-pasta-option---map-guest-addr" in ids
    seen: dict[str, int] = {}
    assert [anchor("Host", seen), anchor("Host", seen)] == ["host", "host-1"]


def test_derived_example_follows_its_base_with_a_step_replaced() -> None:
    examples = {e.id: e for e in parse(GUIDE.read_text(encoding="utf-8"))}
    derived = examples["example-host---source-address-preserved"]
    assert derived.based_on == "#example-pasta---source-address-preserved"
    assert derived.replaces == ("4",)


def test_assessments_of_the_guide() -> None:
    examples = parse(GUIDE.read_text(encoding="utf-8"))
    by_id = {a.example: a for a in assess_all(examples)}
    nginx = by_id["example--use-podman-run-option--p"]
    assert nginx.status is Status.WITH_SUBSTITUTIONS
    assert "docker.io/library/nginx -> localhost/podnet/guide-nginx" in nginx.substitutions
    builder = by_id["example-use-pasta-option--t-auto-to-let-pasta-detect-listening-sockets"]
    assert builder.status is Status.CANNOT_RUN
    assert any("dnf" in reason for reason in builder.reasons)
    pasta = by_id["example-pasta---source-address-preserved"]
    assert pasta.status is Status.WITH_SUBSTITUTIONS
    assert "host1.example.com -> 192.0.2.1" in pasta.substitutions
    derived = by_id["example-host---source-address-preserved"]
    assert derived.status is Status.WITH_SUBSTITUTIONS
    libsdsock = by_id[
        "example-pasta--custom-network--socket-activation--libsdsock---source-address-preserved"]
    assert any("libsdsock" in reason for reason in libsdsock.reasons)
    optional = by_id["show-the-default-rootlessnetworkcmd"]
    assert optional.status is Status.WITH_SUBSTITUTIONS  # jq only "if jq is installed"
    assert any("only if jq is installed" in s for s in optional.substitutions)
    assert any("hardware" in r for a in by_id.values() for r in a.reasons)
    assert by_id["pasta-documentation-links"].status is Status.NOTHING_TO_RUN
    assert by_id["network-backends"].status is Status.AS_WRITTEN


def test_images_a_podman_run_names() -> None:
    assert run_images("podman run -p 8080:80 -d --rm --name test docker.io/library/nginx") == [
        "docker.io/library/nginx"]
    assert run_images("podman run --rm --network none alpine echo hello world") == ["alpine"]
    assert run_images("podman pull ghcr.io/nginxinc/nginx-unprivileged") == [
        "ghcr.io/nginxinc/nginx-unprivileged"]
    assert run_images("curl -s http://localhost:8080 | head -4") == []


def test_summary_and_json_cover_every_example() -> None:
    examples = parse(GUIDE.read_text(encoding="utf-8"))
    assessments = assess_all(examples)
    total = summary(examples, assessments)
    assert total["blocks"] == GUIDE.read_text(encoding="utf-8").count("```") // 2
    assert sum(total["by_status"].values()) == len(examples)
    assert '"blocks_by_kind"' in to_json(examples, assessments)
    assert rules.LEAD_IN_RULES


def test_cli_lists_examples_and_refuses_a_missing_guide(tmp_path: Path) -> None:
    done = subprocess.run([BIN / "podnet", "examples"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "examples," in done.stdout.splitlines()[-1]
    bad = subprocess.run([BIN / "podnet", "examples", "--guide", str(tmp_path / "none.md")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    assert "Traceback" not in bad.stderr


def _plan(example_id: str) -> Plan:
    examples = parse(GUIDE.read_text(encoding="utf-8"))
    return plan(next(e for e in examples if e.id == example_id), examples)


def test_plan_of_a_derived_example_runs_its_base_with_its_steps() -> None:
    runnable = _plan("example-pasta--custom-network---source-address-not-preserved")
    assert not runnable.unsupported
    writes = [a.path for a in runnable.actions if a.kind == "write"]
    assert writes == ["~/.config/containers/systemd/nginx.container",
                      "~/.config/containers/systemd/mynet.network"]
    runs = [a for a in runnable.actions if a.kind == "run"]
    assert all("useradd" not in a.text and "machinectl" not in a.text for a in runs)
    assert "podman image exists ghcr.io/nginxinc/nginx-unprivileged:latest" in [a.text for a in runs]
    curl = next(a for a in runs if a.text.startswith("curl"))
    assert (curl.host, curl.text) == ("host2", "curl 192.0.2.1:8080")
    logs = [a for a in runs if a.text.startswith("podman logs")]
    assert len(logs) == 1 and logs[0].expected and logs[0].expected.startswith("10.89.0.2 ")
    assert runnable.images == (("ghcr.io/nginxinc/nginx-unprivileged:latest",
                                "localhost/podnet/web"),)


def test_plan_refuses_what_the_runner_does_not_do() -> None:
    assert any("root (sudo)" in r for r in _plan("pasta").unsupported)
    assert not _plan("configure-ip_unprivileged_port_start").unsupported
    assert not _plan("example-connect-to-hosts-main-network-interface-using-slirp4netns"
                     ).unsupported
    session = _plan("network-backends").actions
    assert [(a.text, a.expected) for a in session] == [
        ("podman info --format {{.Host.NetworkBackend}}", "netavark")]


def test_output_comparison_normalises_only_what_must_differ() -> None:
    guide = '192.0.2.10 - - [15/Jun/2023:07:41:18 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.1.1" "-"'
    same = '192.0.2.10 - - [28/Nov/2026:13:50:00 +0000] "GET / HTTP/1.1" 200 7 "-" "curl/8.14.1" "-"\n'
    assert difference(guide, same) == ""
    other = same.replace("192.0.2.10", "10.89.0.2")
    diff = difference(guide, other)
    assert "-192.0.2.10" in diff and "+10.89.0.2" in diff
    assert difference("netavark", "cni\n")


def test_a_prerequisite_is_started_first_and_recorded_as_a_substitution() -> None:
    runnable = _plan("example-connect-to-hosts-localhost-using-the-pasta-option---map-gw")
    assert not runnable.unsupported
    first = runnable.actions[0]
    assert first.step == "prerequisite" and "--bind 127.0.0.1" in first.text
    assert "setsid timeout 300 " in first.text  # a bounded lifetime
    assert any(s.startswith("prerequisite: a web server on host1 listening on 127.0.0.1:8080")
               for s in runnable.substitutions)
    # Images named on a continued line are found (and so tagged for the example's user).
    assert runnable.images == (("registry.fedoraproject.org/fedora", "localhost/podnet/web"),)


def test_a_non_zero_exit_is_expected_only_where_the_guide_says_so() -> None:
    assert expected_exits("Verify ... The command should not list any processes.",
                          "pgrep -u $USER pasta -l") == (1,)
    assert expected_exits("Check if there are any pasta processes running as the new user.",
                          "pgrep -u $USER pasta -l") == ()
    assert expected_exits("The command should not list any processes.", "podman ps") == ()
