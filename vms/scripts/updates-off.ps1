# Hold Windows Update off while the harness runs: an update that installs or reboots
# in the middle of a suite makes cells broken for reasons that have nothing to do
# with the engine.  Updates stay possible by hand (Start-Service wuauserv).
$ErrorActionPreference = 'Stop'

$policy = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU'
New-Item -Path $policy -Force | Out-Null
Set-ItemProperty -Path $policy -Name NoAutoUpdate -Value 1 -Type DWord
Set-ItemProperty -Path $policy -Name NoAutoRebootWithLoggedOnUsers -Value 1 -Type DWord

foreach ($service in 'wuauserv', 'UsoSvc', 'WaaSMedicSvc') {
    $found = Get-Service -Name $service -ErrorAction SilentlyContinue
    if (-not $found) { continue }
    Stop-Service -Name $service -Force -ErrorAction SilentlyContinue
    # WaaSMedicSvc refuses Set-Service; its start type lives in the registry.
    Set-ItemProperty -Path "HKLM:\SYSTEM\CurrentControlSet\Services\$service" `
        -Name Start -Value 4 -ErrorAction SilentlyContinue
}
Get-ScheduledTask -TaskPath '\Microsoft\Windows\UpdateOrchestrator\' -ErrorAction SilentlyContinue |
    Disable-ScheduledTask -ErrorAction SilentlyContinue | Out-Null
