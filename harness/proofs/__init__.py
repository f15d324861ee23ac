"""Proofs that drive the lab's target as a person's machine would be used: the
workstation proof (podnet run as a person in host1 leaves it as it was), the reboot
troubleshooting checks (host1 rebooted with its network late), and sshd in host1 for the
ssh target's checks."""
