"""The newest revision's examples as the runner plans them (no podman): the files the
guide shows being created (also by a bare name, also by "add the following lines to"),
what a file says of the guide's home, a server run in the foreground after other
commands of its block, the images of a script the guide writes, and the tools host1 lacks.
Each with the wrong world that must not pass."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from harness.examples import runner, shell
from harness.examples.assess import assess_all, script_images
from harness.examples.parse import parse
from harness.examples.plan import GUIDE_HOME, Plan, plan
from harness.examples.structure import BlockKind, Example
from harness.guide.revisions import selected

EXAMPLES = parse(selected().text)


def _plan(example_id: str) -> Plan:
    example: Example = next(e for e in EXAMPLES if e.id == example_id)
    return plan(example, EXAMPLES)


def _one(text: str) -> Example:
    (example,) = parse(f"## Excerpt\n\n{text}")
    return example


def test_a_file_named_without_a_directory_is_written_and_its_images_substituted() -> None:
    """"Create file `test.bash` containing" (line 2403): the runner writes test.bash
    before ``bash test.bash`` (it ran without it: exit 127); the images its podman runs
    name are the lab's."""
    write, run = _plan("example-show-effect-of-isolate-option-value").actions
    assert (write.kind, write.path, write.line) == ("write", "test.bash", 2404)
    assert run.text == "bash test.bash" and run.expected is not None
    images = dict(_plan("example-show-effect-of-isolate-option-value").images)
    assert set(images) == {"docker.io/library/nginx", "docker.io/library/fedora"}
    # Wrong world: a lead-in whose spans name no file gives no path.
    (block,) = _one("1. Create file `some words` containing\n   ```\n   x\n   ```\n"
                    ).steps[0].blocks
    assert block.kind is BlockKind.FILE and block.path is None


def test_podman_runs_inside_a_script_name_their_images() -> None:
    script = ("  ctr=$(podman run --rm --network ${net2} -d docker.io/library/nginx)\n"
              "  if podman run --rm --network $net1 docker.io/library/fedora curl -sS $ip; then\n"
              "  podman run --rm --sysctl net.ipv4.ip_unprivileged_port_start=80 a/b:1 x\n")
    assert script_images(script) == ["docker.io/library/nginx", "docker.io/library/fedora",
                                     "a/b:1"]
    assert script_images("echo podman run is a phrase; podman network create x") == []


def test_lines_added_to_a_missing_file_make_it_and_keep_the_guides_home() -> None:
    """"Add the following lines to _~/.config/containers/containers.conf_" (line 3251):
    a file to write, not a command (it ran '[network]' as one); its content names the
    guide's home, which the runner replaces by its user's (pasta does not expand ``~``)."""
    actions = _plan("enable-debug-logging-from-pasta").actions
    append = next(a for a in actions if a.line == 3252)
    assert (append.kind, append.path) == ("append", "~/.config/containers/containers.conf")
    assert f'"{GUIDE_HOME}pasta.log"' in append.text
    assert not any(a.kind == "run" and "[network]" in a.text for a in actions)
    # Wrong world: the existing-file form still refuses (the file is another example's).
    troubleshooting = _plan(
        "systemd-user-service-generated-from-quadlet-fails-after-reboot-error-message-"
        "external-interface-not-usable")
    assert any("does not create" in reason for reason in troubleshooting.unsupported)


def test_the_append_script_adds_at_the_end_and_makes_a_missing_file(tmp_path: Path) -> None:
    target = tmp_path / "made" / "containers.conf"
    for text in ("[network]\n", "pasta_options = []\n"):
        subprocess.run([sys.executable, "-c", runner.APPEND, str(target), text], check=True)
    assert target.read_text() == "[network]\npasta_options = []\n"
    missing_line = subprocess.run([sys.executable, "-c", runner.REPLACE, str(target),
                                   "no such line", "x"], capture_output=True, check=False)
    assert missing_line.returncode != 0 and target.read_text().startswith("[network]")


def test_commands_then_a_server_in_the_foreground_run_then_serve() -> None:
    """Line 2456: two network creates, then nginx run without -d (it waited 180 s for a
    server that never ends)."""
    create, serve = _plan("containers-can-be-connected-to-multiple-custom-networks").actions
    assert (create.kind, serve.kind) == ("run", "serve")
    assert create.text.splitlines() == ["podman network create --opt=isolate=strict net1",
                                        "podman network create --opt=isolate=strict net2"]
    assert serve.text == "podman run --rm --network net1 --network net2 docker.io/library/nginx"
    # Wrong worlds: a command after the image, or -d, ends by itself: no server.
    for block in ("podman network create n\npodman run --rm docker.io/library/nginx nginx -v",
                  "podman network create n\npodman run -d --rm docker.io/library/nginx"):
        example = _one(f"Run the command\n```\n{block}\n```\n")
        assert [a.kind for a in plan(example, [example]).actions] == ["run"]


def _fake_podman(bin_dir: Path, listens: str, already: bool) -> None:
    """A podman whose run starts container c1 (running before if ``already``) for 2 s and
    exits 7, and in which c1 prints ``listens`` for ss."""
    bin_dir.mkdir()
    ps = "echo c1" if already else '[ -e "$HOME/started" ] && echo c1'
    (bin_dir / "podman").write_text(
        "#!/bin/bash\n"
        'case "$1" in\n'
        '  run) touch "$HOME/started"; sleep 2; exit 7;;\n'
        f"  ps) {ps}; exit 0;;\n"
        f"  exec) printf '%s' '{listens}'; exit 0;;\n"
        "esac\n")
    (bin_dir / "podman").chmod(stat.S_IRWXU)


def _serve(tmp_path: Path, listens: str, already: bool = False
           ) -> subprocess.CompletedProcess[str]:
    _fake_podman(tmp_path / "bin", listens, already)
    env = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path)}
    return subprocess.run(["bash", "-c", shell.serve("podman run --rm a/nginx", 1)],
                          capture_output=True, text=True, env=env, check=False, cwd="/")


def test_a_container_that_publishes_nothing_is_ready_when_it_listens_inside(
        tmp_path: Path) -> None:
    done = _serve(tmp_path, "tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:*\n")
    assert done.returncode == 0 and done.stdout.strip().isdigit(), done.stderr


def test_a_container_that_listens_on_nothing_is_not_ready(tmp_path: Path) -> None:
    done = _serve(tmp_path, "")
    assert done.returncode == 7 and done.stdout == ""


def test_a_container_running_before_the_server_does_not_make_it_ready(tmp_path: Path) -> None:
    done = _serve(tmp_path, "tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:*\n", already=True)
    assert done.returncode == 7 and done.stdout == ""


def test_jq_is_installed_for_the_examples_not_a_reason_to_skip() -> None:
    by_id = {a.example: a for a in assess_all(EXAMPLES)}
    executable = by_id["show-pasta-executable-path"]
    assert not executable.reasons
    assert any(s.startswith("jq -> Debian's jq") for s in executable.substitutions)
    assert "jq" in runner.INSTALLED_TOOLS
    # A word containing jq is no use of it.
    assert not any("jq ->" in s for s in by_id["network-backends"].substitutions)


def test_an_ls_error_the_guide_shows_is_the_exit_it_expects() -> None:
    """Line 2008: the guide shows ls failing (exit 2); the file is there in a wrong world."""
    ls = next(a for a in _plan("configure-pasta-executable-path").actions if a.line == 2008)
    assert ls.expected_exits == (2,)
    shown = "ls: cannot access '/home/guide/.config/containers/containers.conf': " \
            "No such file or directory\n"
    assert runner._terminal_difference(ls, runner.Completed((), 2, "", shown, 0.0)) == ""
    listed = "/home/guide/.config/containers/containers.conf\n"
    assert runner._terminal_difference(ls, runner.Completed((), 0, listed, "", 0.0)) != ""


def test_a_pasta_of_its_own_stands_in_for_the_one_built_from_source() -> None:
    actions = _plan("configure-pasta-executable-path").actions
    assert actions[0].step == "prerequisite" and "~/installdir/bin/pasta" in actions[0].text
    write = next(a for a in actions if a.kind == "write")
    assert f'"{GUIDE_HOME}installdir/bin"' in write.text  # the user's home, by the runner
    # Debian's netavark is in /usr/lib/podman (podman failed: "could not find netavark").
    assert '"/usr/lib/podman", "/usr/libexec/podman"]' in write.text
    shown = next(a for a in actions if a.line == 2021)
    assert runner._terminal_difference(
        shown, runner.Completed((), 0, "/home/guide/installdir/bin/pasta\n", "", 0.0)) == ""
    # Wrong world: podman still runs host1's pasta.
    assert runner._terminal_difference(
        shown, runner.Completed((), 0, "/usr/bin/pasta\n", "", 0.0)) != ""


def test_the_output_of_a_session_is_its_last_commands() -> None:
    """Line 1465: "$ podman network create ...", "$ podman run ... curl", then the page:
    the page is curl's (podman network create prints the network's name, not shown)."""
    actions = _plan("example-connect-to-hosts-main-network-interface-using-pasta-and---add-"
                    "hostexamplecomhost-gateway").actions
    assert actions[0].step == "prerequisite"  # the web server on the main interface
    create, curl = (a for a in actions if a.line == 1465)
    assert create.expected is None and create.text.startswith("podman network create")
    assert curl.expected is not None and curl.text.startswith("podman run")
    # Wrong world: output between two commands is the whole session's.
    example = _one("Run\n```\n$ echo a\na\n$ echo b\nb\n```\n")
    (both,) = plan(example, [example]).actions
    assert both.text == "echo a\necho b" and both.expected == "a\nb"


def test_a_socket_to_the_internet_in_a_script_is_a_reason_not_to_run() -> None:
    by_id = {a.example: a for a in assess_all(EXAMPLES)}
    assert by_id["example-connect-to-the-internet-in-bash-before-starting-podman"].reasons == (
        "needs the internet (podman.io)",)
    assert not by_id["example-show-effect-of-isolate-option-value"].reasons


def test_a_path_alone_above_a_block_is_the_file_and_placeholder_images_say_so() -> None:
    """Lines 835-851: each file under its path in italics; Image=image1 is a placeholder
    (it ran systemctl start on units it never wrote: 'Unit app.socket not found')."""
    by_id = {a.example: a for a in assess_all(EXAMPLES)}
    same_socket = by_id["alternative-2-use-the-same-socket-unit-from-multiple-services"]
    assert same_socket.reasons == (
        "needs the registry image image1 (no lab substitute: not in the substitution table)",
        "needs the registry image image2 (no lab substitute: not in the substitution table)")
    writes = [a.path for a in _plan(same_socket.example).actions if a.kind == "write"]
    assert writes == ["~/.config/systemd/user/app.socket",
                      "~/.config/containers/systemd/app1.container",
                      "~/.config/containers/systemd/app2.container"]
    # Wrong world: a sentence is no path.
    (block,) = _one("Use this\n```\n[network]\n```\n").steps[0].blocks
    assert block.kind is not BlockKind.FILE


def test_a_step_without_a_command_gets_its_stand_in() -> None:
    """Step 4, "Start your containers again": the runner's user has none, so step 5's
    ``cat ~/pasta.log`` had no log to show."""
    actions = _plan("enable-debug-logging-from-pasta").actions
    steps = [(a.step, a.text.split()[0]) for a in actions]
    assert steps == [("1", "mkdir"), ("2", "[network]"), ("4", "podman"), ("5", "cat")]
    by_id = {a.example: a for a in assess_all(EXAMPLES)}
    assert any(s.startswith("step 4 ('Start your containers again')")
               for s in by_id["enable-debug-logging-from-pasta"].substitutions)


def test_a_session_whose_last_grep_shows_nothing_expects_exit_1() -> None:
    """Line 1230: "$ pasta --help | grep -- --map-gw", then an empty prompt: grep finds
    nothing (exit 1), and the empty prompt is no output."""
    (note,) = (a for a in _plan("example-connect-to-hosts-localhost-using-the-pasta-option---"
                                "map-gw-and-reconfigure-default-gateway").actions
               if a.line == 1230)
    assert note.expected_exits == (1,)
    assert note.expected == "  --no-map-gw\t\tDon't map gateway address to host"
    # Wrong worlds: a grep the guide shows printing something, or a last command that is
    # not grep, expects success.
    for session in ("$ pasta --help | grep -- --no-map-gw\n  --no-map-gw x\n",
                    "$ pasta --help | grep -- --map-gw\n$ true\n$\n"):
        example = _one(f"Run\n```\n{session}```\n")
        assert all(a.expected_exits == () for a in plan(example, [example]).actions)


def test_a_server_the_example_starts_itself_is_no_prerequisite() -> None:
    """The newest revision's --map-gw examples start their own python server on
    127.0.0.1:8080 (step 1); a second one started first took the port."""
    map_gw = _plan("example-connect-to-hosts-localhost-using-the-pasta-option---map-gw")
    assert map_gw.actions[0].step == "1" and "docker.io/library/python" in dict(map_gw.images)
    slirp = _plan("example-connect-to-hosts-localhost-using-slirp4netns")
    assert slirp.actions[0].step == "prerequisite"
