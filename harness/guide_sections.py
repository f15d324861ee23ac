"""The guide's headings in the guide's order, as data: (GitHub anchor, heading).

Generated from docs/guide.md (tests/test_matrix.py checks it still matches and prints
the current list when it does not). Reports order claims by the position of their
``anchor`` here, which is the order in which the guide makes its statements.
"""

from __future__ import annotations

HEADINGS: tuple[tuple[str, str], ...] = (
    ('#podman-networking-docs', 'podman-networking-docs'),
    ('#inbound-tcpudp-connections', 'Inbound TCP/UDP connections'),
    ('#overview', 'Overview'),
    ('#valid-method-combinations', 'Valid method combinations'),
    ('#source-address-preserved', 'Source address preserved'),
    ('#example-socket-activation-systemd-user-service---source-address-preserved',
     'example: socket activation (systemd user service) - source address preserved'),
    ('#example-pasta---source-address-preserved',
     'example: pasta - source address preserved'),
    ('#example-pasta--custom-network---source-address-not-preserved',
     'example: pasta + custom network - source address not preserved'),
    ('#example-pasta--custom-network--socket-activation--libsdsock---source-address-preserved',
     'example: pasta + custom network + socket activation + libsdsock - source address preserved'),
    ('#example-slirp4netns--port_handlerslirp4netns---source-address-preserved',
     'example: slirp4netns + port_handler=slirp4netns - source address preserved'),
    ('#example-slirp4netns--port_handlerrootlesskit---source-address-not-preserved',
     'example: slirp4netns + port_handler=rootlesskit - source address not preserved'),
    ('#example-host---source-address-preserved', 'example: host - source address preserved'),
    ('#performance', 'Performance'),
    ('#support-for-binding-to-specific-network-device',
     'Support for binding to specific network device'),
    ('#example-socket-activation-systemd-user-service---bind-to-specific-network-device',
     'example: socket activation (systemd user service) - bind to specific network device'),
    ('#example-pasta---bind-to-specific-network-device',
     'example: pasta - bind to specific network device'),
    ('#configure-ip_unprivileged_port_start', 'Configure `ip_unprivileged_port_start`'),
    ('#outbound-tcpudp-connections', 'Outbound TCP/UDP connections'),
    ('#outbound-tcpudp-connections-to-the-internet',
     'Outbound TCP/UDP connections to the internet'),
    ('#outbound-tcpudp-connections-to-the-hosts-localhost',
     "Outbound TCP/UDP connections to the host's localhost"),
    ('#example-connect-to-hosts-localhost-using-slirp4netns',
     "example: connect to host's localhost using slirp4netns"),
    ('#example-connect-to-hosts-localhost-using-the-pasta-option---map-gw',
     "example: connect to host's localhost using the pasta option `--map-gw`"),
    ('#example-connect-to-hosts-localhost-using-the-pasta-option---map-host-loopback',
     "example: connect to host's localhost using the pasta option `--map-host-loopback`"),
    ('#example-connect-to-hosts-localhost-using-the-pasta-option---tcp-ns--t',
     "example: connect to host's localhost using the pasta option `--tcp-ns` (`-T`)"),
    ('#outbound-tcpudp-connections-to-the-hosts-main-network-interface-eg-eth0',
     "Outbound TCP/UDP connections to the host's main network interface (e.g eth0)"),
    ('#example-connect-to-hosts-main-network-interface-using-slirp4netns',
     "example: connect to host's main network interface using slirp4netns"),
    ('#example-connect-to-hosts-main-network-interface-using-pasta',
     "example: connect to host's main network interface using pasta"),
    ('#connecting-to-unix-socket-on-the-host', 'Connecting to Unix socket on the host'),
    ('#description-of-the-different-methods', 'Description of the different methods'),
    ('#socket-activation-systemd-user-service', 'Socket activation (systemd user service)'),
    ('#add-socket-activation-support-by-preloading-libsdsock-with-ld_preload',
     'Add socket activation support by preloading libsdsock with LD_PRELOAD'),
    ('#socket-activation-systemd-system-service-with-user',
     'Socket activation (systemd system service with `User=`)'),
    ('#pasta', 'Pasta'),
    ('#show-the-default-rootlessnetworkcmd', 'Show the default rootlessNetworkCmd'),
    ('#publish-container-ports-with-pasta', 'Publish container ports with pasta'),
    ('#example--use-podman-run-option--p', 'example:  use `podman run` option `-p`'),
    ('#example-use-pasta-option--t-to-publish-a-port',
     'example: use pasta option `-t` to publish a port'),
    ('#example-use-pasta-option--t-auto-to-let-pasta-detect-listening-sockets',
     'example: use pasta option `-t auto` to let pasta detect listening sockets'),
    ('#pasta-documentation-links', 'Pasta documentation links'),
    ('#slirp4netns', 'Slirp4netns'),
    ('#host', 'Host'),
    ('#network-backends', 'Network backends'),
    ('#cni', 'CNI'),
    ('#netavark', 'Netavark'),
    ('#capture-network-traffic', 'Capture network traffic'),
    ('#http-reverse-proxy', 'HTTP reverse proxy'),
    ('#troubleshooting', 'Troubleshooting'),
    ('#systemd-user-service-generated-from-quadlet-fails-after-reboot-error-message-external-interface-not-usable',
     'systemd user service generated from quadlet fails after reboot. '
     'Error message `External interface not usable`'),
    ('#laptop-intermittent-network-connectivity-issues-error-message-external-interface-not-usable',
     'Laptop intermittent network connectivity issues. Error message `External interface not usable`'),
    ('#documentation-relevant-to-older-podman-versions',
     'Documentation relevant to older Podman versions'),
    ('#about-the-pasta-option---map-guest-addr',
     'About the pasta option __--map-guest-addr__'),
    ('#example-connect-to-hosts-main-network-interface-using-pasta-and-custom-network',
     "example: connect to host's main network interface using pasta and custom network"),
)

_POSITION = {anchor: i for i, (anchor, _) in enumerate(HEADINGS)}
_BY_TITLE = {title.replace("`", "").replace("__", ""): i
             for i, (_, title) in enumerate(HEADINGS)}


def position(anchor: str | None, section: str = "") -> int:
    """Where a claim's section comes in the guide: by its anchor, else by the last
    heading of its section path; sections the guide lacks come after all others."""
    if anchor in _POSITION:
        return _POSITION[anchor]
    last = section.split(" > ")[-1].strip()
    return _BY_TITLE.get(last, len(HEADINGS))
