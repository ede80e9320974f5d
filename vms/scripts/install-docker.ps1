# Install docker from the static zip the windows-containers engine deploys
# (matrix.yaml: engines.windows-containers.artifact) and start its service.
param([Parameter(Mandatory = $true)][string]$Zip)
$ErrorActionPreference = 'Stop'

if (-not (Get-WindowsFeature -Name Containers -ErrorAction SilentlyContinue).Installed) {
    throw 'the Containers feature is not installed (vms/scripts/features.ps1)'
}
Expand-Archive -LiteralPath $Zip -DestinationPath $env:ProgramFiles -Force
$docker = Join-Path $env:ProgramFiles 'docker'
$path = [Environment]::GetEnvironmentVariable('Path', 'Machine')
if ($path -notlike "*$docker*") {
    [Environment]::SetEnvironmentVariable('Path', "$path;$docker", 'Machine')
}
if (-not (Get-Service -Name docker -ErrorAction SilentlyContinue)) {
    & (Join-Path $docker 'dockerd.exe') --register-service
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}
Start-Service docker
