# What the harness expects on every machine: C:\harness for the guest tools (kept
# out of Defender's scans, which would slow or quarantine them), and the firewall
# open for the ports the checks use from the client machine.
$ErrorActionPreference = 'Stop'

New-Item -ItemType Directory -Force -Path C:\harness, C:\harness\out | Out-Null
if (Get-Command Add-MpPreference -ErrorAction SilentlyContinue) {
    Add-MpPreference -ExclusionPath C:\harness -ErrorAction SilentlyContinue
    Add-MpPreference -ExclusionPath C:\Sandbox -ErrorAction SilentlyContinue
}
$ports = @(135, 8135, 8180, 80)
if (-not (Get-NetFirewallRule -Name 'harness-probes' -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -Name 'harness-probes' -DisplayName 'Harness probes' `
        -Direction Inbound -Protocol TCP -LocalPort $ports -Action Allow | Out-Null
}
# ICMP echo, so that `ping` from the client machine tells a dead host from a
# closed port.
Enable-NetFirewallRule -Name 'FPS-ICMP4-ERQ-In' -ErrorAction SilentlyContinue
