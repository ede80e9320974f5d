# WinRM for the harness: NTLM (Negotiate) with message encryption over HTTP, and an
# HTTPS listener with a self-signed certificate for hosts reached over HTTPS.  Basic
# authentication and unencrypted traffic are turned off: a password never crosses
# the network readable.  Vagrant's own communicator uses Negotiate too.
# -Address is the machine's lab address (matrix.yaml), which clients connect to.
param([Parameter(Mandatory = $true)][string]$Address)
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
    # Subject alternative names: the computer name and the lab address.  The
    # harness connects by address, and a certificate for the name alone fails
    # validation there.
    $san = "2.5.29.17={text}DNS=$name&IPAddress=$Address"
    $cert = New-SelfSignedCertificate -Subject "CN=$name" -TextExtension @($san) `
        -CertStoreLocation Cert:\LocalMachine\My -NotAfter (Get-Date).AddYears(5)
    New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * `
        -CertificateThumbPrint $cert.Thumbprint -Force | Out-Null
    New-Item -ItemType Directory -Force -Path C:\harness | Out-Null
    # The controller fetches this file and trusts it (ca_trust_path), which needs
    # PEM: Base64 in lines of 64 between the BEGIN and END lines, not DER.
    $base64 = [Convert]::ToBase64String($cert.RawData)
    $lines = for ($i = 0; $i -lt $base64.Length; $i += 64) {
        $base64.Substring($i, [Math]::Min(64, $base64.Length - $i))
    }
    $pem = @('-----BEGIN CERTIFICATE-----') + $lines + @('-----END CERTIFICATE-----')
    [IO.File]::WriteAllText('C:\harness\winrm-https.pem', ($pem -join "`n") + "`n",
        [Text.Encoding]::ASCII)
}
if (-not (Get-NetFirewallRule -Name 'harness-winrm-https' -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -Name 'harness-winrm-https' -DisplayName 'WinRM HTTPS (harness)' `
        -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null
}
Restart-Service WinRM
