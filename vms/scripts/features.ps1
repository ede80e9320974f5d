# Windows features a platform's role needs, named as on Windows Server
# (Containers, Web-Server).  Client editions name them differently and install
# them as optional features; the names are mapped here.  Vagrant reboots after.
param([Parameter(Mandatory = $true)][string]$Features)
$ErrorActionPreference = 'Stop'

$clientNames = @{
    'Containers' = @('Containers')
    'Web-Server' = @('IIS-WebServerRole', 'IIS-WebServer')
}
$isServer = (Get-CimInstance Win32_OperatingSystem).ProductType -ne 1

foreach ($feature in $Features.Split(',') | Where-Object { $_ }) {
    if ($isServer) {
        $result = Install-WindowsFeature -Name $feature -IncludeManagementTools
        if (-not $result.Success) { throw "feature $feature did not install" }
        continue
    }
    foreach ($name in $clientNames[$feature]) {
        Enable-WindowsOptionalFeature -Online -FeatureName $name -All -NoRestart | Out-Null
    }
}
