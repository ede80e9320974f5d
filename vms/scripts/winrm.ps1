# WinRM for the harness: NTLM (Negotiate) with message encryption over HTTP, and an
# HTTPS listener with a self-signed certificate for hosts reached over HTTPS.  Basic
# authentication and unencrypted traffic are turned off: a password never crosses
# the network readable.  Vagrant's own communicator uses Negotiate too.
$ErrorActionPreference = 'Stop'

Set-Item -Path WSMan:\localhost\Service\AllowUnencrypted -Value $false
Set-Item -Path WSMan:\localhost\Service\Auth\Basic -Value $false
Set-Item -Path WSMan:\localhost\Service\Auth\Negotiate -Value $true
Set-Item -Path WSMan:\localhost\Client\AllowUnencrypted -Value $false
# Long uploads and quiet commands: room for large envelopes and long operations.
Set-Item -Path WSMan:\localhost\MaxEnvelopeSizekb -Value 512
Set-Item -Path WSMan:\localhost\Shell\MaxMemoryPerShellMB -Value 2048
Set-Item -Path WSMan:\localhost\MaxTimeoutms -Value 1800000

$name = $env:COMPUTERNAME
$https = Get-ChildItem WSMan:\localhost\Listener |
    Where-Object { $_.Keys -contains 'Transport=HTTPS' }
if (-not $https) {
    $cert = New-SelfSignedCertificate -DnsName $name -CertStoreLocation Cert:\LocalMachine\My `
        -NotAfter (Get-Date).AddYears(5)
    New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * `
        -CertificateThumbPrint $cert.Thumbprint -Force | Out-Null
    New-Item -ItemType Directory -Force -Path C:\harness | Out-Null
    # The controller can fetch this file and trust it (ca_trust_path).
    Export-Certificate -Cert $cert -FilePath C:\harness\winrm-https.cer -Type CERT | Out-Null
}
if (-not (Get-NetFirewallRule -Name 'harness-winrm-https' -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -Name 'harness-winrm-https' -DisplayName 'WinRM HTTPS (harness)' `
        -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null
}
Restart-Service WinRM
