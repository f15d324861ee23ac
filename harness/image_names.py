"""The names of podnet's images: one image serves as web server (default command) and
tools (iperf3, curl, socat, python3, the UDP peer reporter and the socket-activated
sink), built on a base imported from a root file system tar (harness/lab/web_image.py)."""

PODNET_NAMESPACE = "localhost/podnet/"
WEB_IMAGE = f"{PODNET_NAMESPACE}web"
BASE_IMAGE = f"{PODNET_NAMESPACE}base"
