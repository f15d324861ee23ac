"""The test image builder (lab and workstation) and a workstation session's image and
home clean-up, against a scripted target: which podman commands run, and which never."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from harness.errors import CommandError, PodnetError, UsageError
from harness.lab import web_image
from harness.run import Completed
from harness.sessions.records import KEPT_IMAGES, SessionStore
from harness.targets import local
from harness.targets.base import PRESENT_END, Target
from tests.test_sessions import HereTarget

Reply = Callable[[list[str]], tuple[int, str] | None]


class ScriptedTarget(Target):
    """Answers each command with the first reply that knows it (else exit 0, no output)
    and records every argv."""

    def __init__(self, *replies: Reply) -> None:
        self.name, self.user, self.uid, self.home = "scripted", "alice", 1001, "/home/alice"
        self.main_address = "192.0.2.1"
        self.replies = replies
        self.calls: list[list[str]] = []
        self.stdin: list[str | None] = []

    def run(self, argv: Sequence[str], *, root: bool = False, check: bool = True,
            input: str | None = None, timeout: float | None = 120,
            stdin_path: str | None = None) -> Completed:
        argv = list(argv)
        self.calls.append(argv)
        self.stdin.append(stdin_path)
        # An image nobody answered for does not exist (inspect fails).
        unknown = (125, "") if argv[:3] == ["podman", "image", "inspect"] else (0, "")
        code, out = next((r for reply in self.replies if (r := reply(argv)) is not None),
                         unknown)
        if check and code != 0:
            raise CommandError(argv, code, out, f"{argv[0]} failed")
        return Completed(tuple(argv), code, out, "", 0.0)

    def podman_calls(self, sub: str) -> list[list[str]]:
        return [c for c in self.calls if c[:2] == ["podman", sub]]

    def made(self, stem: str) -> str:
        """The directory ``STEM<random>`` this target was asked to make."""
        [path] = [c[-1] for c in self.calls
                  if c[:4] == ["mkdir", "-m", "0700", "--"] and stem in c[-1]]
        return path


def image_exists(present: set[str]) -> Reply:
    def reply(argv: list[str]) -> tuple[int, str] | None:
        if argv[:3] == ["podman", "image", "exists"]:
            return (0 if argv[3] in present else 1, "")
        return None
    return reply


def labelled(labels: dict[str, str]) -> Reply:
    """``podman image inspect``: images by name with their io.podnet.image label."""
    def reply(argv: list[str]) -> tuple[int, str] | None:
        if argv[:3] == ["podman", "image", "inspect"]:
            return (0, labels[argv[-1]]) if argv[-1] in labels else (125, "")
        return None
    return reply


def listing(entries: list[dict[str, object]]) -> Reply:
    def reply(argv: list[str]) -> tuple[int, str] | None:
        return (0, json.dumps(entries)) if argv[:2] == ["podman", "images"] else None
    return reply


def test_existing_image_is_only_tagged(tmp_path: Path) -> None:
    tag = web_image.image_tag("key")
    target = ScriptedTarget(image_exists({tag}), labelled({tag: "web"}))
    built = web_image.ensure_images(target, tmp_path / "never-read.tar", "key")
    assert built == web_image.Built(tag, built=False)
    assert target.podman_calls("tag") == [["podman", "tag", tag, f"{web_image.WEB_IMAGE}:latest"]]
    assert not target.podman_calls("import") and not target.podman_calls("build")


def test_missing_image_is_built_from_the_base_tar(tmp_path: Path) -> None:
    tar = tmp_path / "image.tar"
    tar.write_bytes(b"tar")
    target = ScriptedTarget(image_exists(set()))
    tag = web_image.image_tag("key")
    assert web_image.ensure_images(target, tar, "key") == web_image.Built(tag, built=True)
    base = f"{web_image.BASE_IMAGE}:{tag.rsplit(':', 1)[1]}"
    imported = target.calls.index(target.podman_calls("import")[0])
    assert target.calls[imported] == ["podman", "import", "--change=LABEL io.podnet.image=base",
                                      "-", base]
    assert target.stdin[imported] == str(tar)
    [build] = target.podman_calls("build")
    assert f"--from={base}" in build and "--label=io.podnet.image=web" in build
    assert "--layers=false" in build and "--pull=never" in build
    assert not any("io.podnet.session" in word for call in target.calls for word in call), \
        "images never carry the session label: containers inherit it"
    assert ["podman", "rmi", base] in target.calls
    assert ["rm", "-rf", "--", target.made("/var/tmp/podnet-image.")] in target.calls
    assert not target.podman_calls("image") or all(c[2] != "prune" for c in target.podman_calls("image"))


@pytest.mark.parametrize("mine", ["web:latest", "tag", "base"])
def test_an_image_of_the_users_with_podnets_name_is_never_retagged(tmp_path: Path,
                                                                    mine: str) -> None:
    tag = web_image.image_tag("key")
    name = {"web:latest": f"{web_image.WEB_IMAGE}:latest", "tag": tag,
            "base": f"{web_image.BASE_IMAGE}:{tag.rsplit(':', 1)[1]}"}[mine]
    target = ScriptedTarget(image_exists({tag, name}), labelled({tag: "web", name: ""}))
    with pytest.raises(PodnetError, match=f"the image {name} is not podnet's"):
        web_image.ensure_images(target, tmp_path / "never-read.tar", "key")
    assert not [c for c in target.calls if c[:2] == ["podman", "tag"] or c[:2] == [
        "podman", "import"] or c[:2] == ["podman", "build"] or c[:2] == ["podman", "rmi"]]


def containers(entries: list[dict[str, object]]) -> Reply:
    """``podman ps --all --external --format json``; ``image inspect --format {{.Id}}``
    answers "base-id"."""
    def reply(argv: list[str]) -> tuple[int, str] | None:
        if argv[:2] == ["podman", "ps"]:
            return 0, json.dumps(entries)
        if argv[:3] == ["podman", "image", "inspect"] and "{{.Id}}" in argv:
            return 0, "base-id\n"
        return None
    return reply


def test_a_base_a_killed_build_left_is_removed_before_the_import(tmp_path: Path) -> None:
    tag = web_image.image_tag("key")
    base = f"{web_image.BASE_IMAGE}:{tag.rsplit(':', 1)[1]}"
    target = ScriptedTarget(image_exists({base}), containers([]), labelled({base: "base"}))
    web_image.ensure_images(target, tmp_path / "image.tar", "key")
    removed = target.calls.index(["podman", "rmi", base])
    assert removed < target.calls.index(target.podman_calls("import")[0])
    assert target.podman_calls("rm") == []


def test_the_build_containers_a_killed_build_left_go_before_its_base(tmp_path: Path) -> None:
    """A build killed while it ran leaves buildah's working container on the base: the
    base cannot be removed while it is there. The user's container on it stays."""
    tag = web_image.image_tag("key")
    base = f"{web_image.BASE_IMAGE}:{tag.rsplit(':', 1)[1]}"
    target = ScriptedTarget(image_exists({base}), containers([
        {"Id": "build1", "ImageID": "base-id", "State": "storage"},
        {"Id": "other-image", "ImageID": "web-id", "State": "storage"},
        {"Id": "users", "ImageID": "base-id", "State": "exited"},
    ]), labelled({base: "base"}))
    web_image.ensure_images(target, tmp_path / "image.tar", "key")
    assert target.podman_calls("rm") == [["podman", "rm", "--force", "build1"]]
    assert target.calls.index(target.podman_calls("rm")[0]) < target.calls.index(
        ["podman", "rmi", base])


def test_a_tar_source_is_opened_only_when_building(tmp_path: Path) -> None:
    opened: list[str] = []

    @contextlib.contextmanager
    def source() -> Iterator[Path]:
        opened.append("open")
        yield tmp_path / "made.tar"
        opened.append("closed")

    tag = web_image.image_tag("key")
    web_image.ensure_images(ScriptedTarget(image_exists({tag})), source, "key")
    assert opened == []
    target = ScriptedTarget(image_exists(set()))
    web_image.ensure_images(target, source, "key")
    assert opened == ["open", "closed"]
    assert str(tmp_path / "made.tar") in target.stdin


OURS_OLD = {"Id": "old", "Names": ["localhost/podnet/web:1"], "Created": 100}
OURS_WEB = {"Id": "web", "Names": ["localhost/podnet/web:2", "localhost/podnet/web:latest"],
            "Created": 200}
OURS_PROXY = {"Id": "proxy", "Names": ["localhost/podnet/caddy:2.11"], "Created": 200}
# Built by the person FROM podnet's image: it inherits the label, but is not podnet's.
THEIRS = {"Id": "theirs", "Names": ["localhost/alice/app:1"], "Created": 300}


def test_podnet_images_are_labelled_and_named_under_podnet() -> None:
    target = ScriptedTarget(listing([OURS_OLD, OURS_WEB, THEIRS]))
    assert web_image.podnet_images(target) == {"web": OURS_WEB["Names"], "old": OURS_OLD["Names"]}
    [listed] = target.podman_calls("images")
    assert "label=io.podnet.image" in listed


def test_images_are_removed_except_those_kept_children_first() -> None:
    def rmi(argv: list[str]) -> tuple[int, str] | None:
        if argv[:2] != ["podman", "rmi"]:
            return None
        blocked = "localhost/podnet/web:2" in argv and not any(
            "caddy" in w for c in target.podman_calls("rmi") for w in c)
        return (2 if blocked else 0, "")

    target = ScriptedTarget(rmi, listing([OURS_OLD, OURS_WEB, OURS_PROXY, THEIRS]))
    removed = web_image.remove_podnet_images(target, {"old": OURS_OLD["Names"]})
    assert sorted(removed) == sorted([*OURS_WEB["Names"], *OURS_PROXY["Names"]])
    removed_names = {w for c in target.podman_calls("rmi") for w in c[2:]}
    assert "localhost/podnet/web:1" not in removed_names, "kept"
    assert "localhost/alice/app:1" not in removed_names, "the person's own image"
    assert all("--force" not in c and "-f" not in c for c in target.podman_calls("rmi"))


def test_missing_image_and_no_way_to_build_it_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                          store: SessionStore) -> None:
    monkeypatch.setattr(local.shutil, "which", lambda _: None)
    target = ScriptedTarget(image_exists(set()))
    with pytest.raises(UsageError) as caught, local.workstation_image(target, None, keep=False, store=store):
        pass
    message = str(caught.value)
    assert "\n" not in message and "--base-tar" in message and "mmdebstrap" in message
    assert not any(c[:2] in (["podman", "import"], ["podman", "build"])
                   for c in target.calls)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    """The target's session records (the kept-images record among them), on this
    machine for these tests."""
    held = SessionStore.on(HereTarget(tmp_path / "home"))
    with held.hold("the target", wait=0):
        yield held


def kept(store: SessionStore) -> str:
    return store.read(KEPT_IMAGES)


def run_session(tmp_path: Path, store: SessionStore, listed: list[dict[str, object]], *,
                keep: bool,
                built: dict[str, object] | None = OURS_WEB) -> ScriptedTarget:
    """A workstation session that builds ``built``; ``listed`` is podnet's images before."""
    tar = tmp_path / "base.tar"
    tar.write_bytes(b"tar")
    target = ScriptedTarget(image_exists(set()),
                            lambda argv: (0, json.dumps(listed))
                            if argv[:2] == ["podman", "images"] else None)
    with local.workstation_image(target, str(tar), keep=keep, store=store):
        if built is not None:
            listed.append(built)
    return target


def removed_names(target: ScriptedTarget) -> list[str]:
    return [w for c in target.podman_calls("rmi") for w in c[2:] if "podnet/base" not in w]


def test_session_removes_what_it_built_and_keeps_what_was_kept(tmp_path: Path,
                                                               store: SessionStore) -> None:
    store.write(KEPT_IMAGES, "old\n")
    target = run_session(tmp_path, store, [OURS_OLD], keep=False)
    assert removed_names(target) == OURS_WEB["Names"]
    assert kept(store) == "old\n"


def test_kept_images_are_recorded_and_stay(tmp_path: Path, store: SessionStore) -> None:
    target = run_session(tmp_path, store, [], keep=True)
    assert removed_names(target) == []
    assert kept(store) == "web\n"
    again = run_session(tmp_path, store, [OURS_WEB], keep=False, built=None)
    assert removed_names(again) == [], "kept by an earlier session"
    gone = run_session(tmp_path, store, [], keep=False, built=None)  # the person removed it
    assert removed_names(gone) == [] and kept(store) == ""
    assert not (Path(store.directory) / KEPT_IMAGES).exists()


def test_images_a_crashed_session_left_are_removed_at_the_end(tmp_path: Path,
                                                              store: SessionStore) -> None:
    target = run_session(tmp_path, store, [OURS_OLD], keep=False, built=None)
    assert removed_names(target) == OURS_OLD["Names"]
    assert not (Path(store.directory) / KEPT_IMAGES).exists(), "nothing recorded, nothing written"


def test_session_leaves_the_home_and_user_manager_as_they_were(store: SessionStore) -> None:
    tag = web_image.image_tag(local.WORKSTATION_BASE)
    active: set[str] = set()
    existing = {"/home/alice/.cache"}

    def world(argv: list[str]) -> tuple[int, str] | None:
        if argv[:2] == ["sh", "-c"] and argv[3:4] == [PRESENT_END]:
            return (0, "".join(f"{p}\n" for p in argv[4:] if p in existing) + PRESENT_END)
        if argv[:3] == ["systemctl", "--user", "is-active"]:
            return (0 if argv[-1] in active else 3, "")
        return None

    target = ScriptedTarget(world, image_exists({tag}))
    with local.workstation_session(target, None, keep=False, store=store):
        active.add("podman-user-wait-network-online.service")
        existing.add("/home/alice/.cache/podnet")
    calls = target.calls
    assert ["rmdir", "--", "/home/alice/.cache/podnet"] in calls
    assert ["rmdir", "--", "/home/alice/.cache"] not in calls, "the person's own directory"
    assert ["systemctl", "--user", "stop", "podman-user-wait-network-online.service"] in calls

    # Already active before the session: not podnet's doing, left alone.
    target = ScriptedTarget(world, image_exists({tag}))
    with local.workstation_session(target, None, keep=False, store=store):
        pass
    assert not any(c[:3] == ["systemctl", "--user", "stop"]
                   for c in target.calls)


def test_without_a_base_tar_mmdebstrap_makes_one_as_the_user(
        monkeypatch: pytest.MonkeyPatch, store: SessionStore) -> None:
    monkeypatch.setattr(local.shutil, "which", lambda _: "/usr/bin/mmdebstrap")
    monkeypatch.setenv("PODNET_MIRROR", "http://deb.example.org/debian")
    target = ScriptedTarget(image_exists(set()))
    with local.workstation_image(target, None, keep=True, store=store):
        pass
    [made] = [c for c in target.calls if c[:1] == ["mmdebstrap"]]
    workdir = target.made("/tmp/podnet-base.")
    assert made[1:3] == ["--mode=unshare", "--variant=essential"]
    assert made[-2:] == [f"{workdir}/base.tar", "deb http://deb.example.org/debian trixie main"]
    assert f"{workdir}/base.tar" in target.stdin, "the import reads the tar mmdebstrap made"
    assert ["rm", "-rf", "--", workdir] in target.calls


def test_a_failing_mmdebstrap_is_one_line_and_leaves_nothing(
        monkeypatch: pytest.MonkeyPatch, store: SessionStore) -> None:
    monkeypatch.setattr(local.shutil, "which", lambda _: "/usr/bin/mmdebstrap")
    monkeypatch.setenv("PODNET_MIRROR", "http://deb.example.org/debian")
    target = ScriptedTarget(image_exists(set()),
                            lambda argv: (1, "") if argv[:1] == ["mmdebstrap"] else None)
    with pytest.raises(PodnetError) as caught, local.workstation_image(target, None, keep=False, store=store):
        pass
    assert "\n" not in str(caught.value) and "--base-tar" in str(caught.value)
    assert ["rm", "-rf", "--", target.made("/tmp/podnet-base.")] in target.calls
    assert not target.podman_calls("import") and not target.podman_calls("build")


def test_a_workstation_image_is_built_on_record(tmp_path: Path) -> None:
    """The session's record is begun before the image is built, so a crash during the
    build leaves its directory on record for the next session to remove."""
    tar = tmp_path / "image.tar"
    tar.write_bytes(b"tar")
    made: dict[str, bool] = {}

    def on_record(argv: list[str]) -> tuple[int, str] | None:
        if argv[:2] == ["mkdir", "-m"]:
            made[argv[-1]] = target.session is not None and argv[-1] in [
                w.path for w in target.session.files()]
        return (1, "") if argv[:2] == ["test", "-e"] else None

    target = ScriptedTarget(image_exists(set()), on_record)
    with local.user_session(target, "20261128T000002Z-cccccc", base_tar=str(tar),
                            keep_image=False, note=lambda _: None,
                            store=SessionStore.on(HereTarget(tmp_path / "home"))):
        pass
    [(path, recorded)] = made.items()
    assert path.startswith("/var/tmp/podnet-image.") and recorded


def test_what_the_listings_cannot_tell_is_left_alone(store: SessionStore) -> None:
    """The user manager not answering at the start, no answer about the home: the
    person's active unit is not stopped and their directories are not removed at the
    end (unknown is not "not there")."""
    tag = web_image.image_tag(local.WORKSTATION_BASE)
    asked: list[str] = []

    def broken(argv: list[str]) -> tuple[int, str] | None:
        if argv[:3] == ["systemctl", "--user", "is-active"]:
            asked.append(argv[-1])  # first: "Failed to connect to bus"; then active
            return (1, "") if len(asked) == 1 else (0, "")
        if argv[:2] in (["sh", "-c"], ["test", "-e"]):
            return (1, "")  # the listing itself fails
        return None

    target = ScriptedTarget(broken, image_exists({tag}))
    with local.workstation_session(target, None, keep=False, store=store):
        pass
    assert not any(c[:1] == ["rmdir"] or c[2:3] == ["stop"] for c in target.calls), target.calls
