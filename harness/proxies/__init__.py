"""HTTP reverse proxies of the guide's table (caddy, nginx, traefik): images built in
the lab without a registry (``images``), their configurations (``specs``), quadlet units
(``units``), start-up (``startup``) and benchmark (``bench``); their access logs are read
by harness.probes.nginx_log."""
