# Loads vms/Vagrantfile with a stand-in for Vagrant's configuration objects and
# prints every machine it defines, with the settings given, as one JSON document.
# Used when no vagrant with the WinRM communicator is installed.
#
# Settings are checked against the names Vagrant's own configuration classes
# define (plugins/communicators/winrm/config.rb, plugins/kernel_v2/config/vm.rb,
# the VirtualBox and Hyper-V providers, vagrant-libvirt), so a name Vagrant does
# not know fails here as `vagrant validate` fails: "The following settings
# shouldn't exist".
require "json"

SETTINGS = {
  "winrm" => %w[username password host port guest_port max_tries retry_delay
                timeout transport ssl_peer_verification execution_time_limit
                basic_auth_only codepage],
  "vm" => %w[allowed_synced_folder_types allow_fstab_modification
             allow_hosts_modification base_mac base_address boot_timeout box
             box_architecture ignore_box_vagrantfile box_check_update box_url
             box_server_url box_version box_download_ca_cert box_download_ca_path
             box_download_checksum box_download_checksum_type
             box_download_client_cert box_download_insecure
             box_download_location_trusted box_download_options communicator
             graceful_halt_timeout guest hostname post_up_message
             usable_port_range clone],
  "virtualbox" => %w[auto_nat_dns_proxy check_guest_additions customize
                     default_nic_type destroy_unused_network_interfaces gui
                     linked_clone linked_clone_snapshot name functional_vboxsf
                     network_adapter memory cpus],
  "hyperv" => %w[ip_address_timeout memory maxmemory cpus vmname vlan_id mac
                 differencing_disk linked_clone auto_start_action
                 auto_stop_action enable_checkpoints enable_automatic_checkpoints
                 enable_virtualization_extensions vm_integration_services
                 enable_enhanced_session_mode],
  "libvirt" => %w[driver host uri memory cpus cpu_mode cpu_model nested
                  clock_offset video_type video_vram graphics_type input
                  machine_type disk_bus nic_model_type storage_pool_name],
}.freeze

class Recorder
  attr_reader :values

  def initialize
    @values = {}
  end

  def method_missing(name, *args, **kwargs, &block)
    key = name.to_s
    if key.end_with?("=")
      @values[key.chomp("=")] = args.first
      return args.first
    end
    return (@values[key] ||= Recorder.new) if args.empty? && kwargs.empty? && !block

    (@values["calls"] ||= []) << [key, args, kwargs]
    nil
  end

  def respond_to_missing?(*)
    true
  end

  def to_json(*options)
    @values.to_json(*options)
  end
end

# A section whose setting names are checked against SETTINGS[section].
class CheckedRecorder < Recorder
  def initialize(section)
    super()
    @section = section
  end

  def method_missing(name, *args, **kwargs, &block)
    key = name.to_s.chomp("=")
    unless SETTINGS.fetch(@section).include?(key)
      abort "#{@section}: The following settings shouldn't exist: #{key}"
    end
    super
  end

  def respond_to_missing?(*)
    true
  end
end

class VmRecorder < CheckedRecorder
  def initialize
    super("vm")
  end

  def define(name, **options)
    machine = MachineRecorder.new
    yield machine
    ($machines ||= {})[name] = { "options" => options, "config" => machine }
  end

  def provider(name)
    settings = CheckedRecorder.new(name.to_s)
    yield settings
    (@values["providers"] ||= {})[name] = settings
  end

  def provision(name, **options)
    (@values["provisioners"] ||= []) << options.merge("name" => name)
  end

  def network(kind, **options)
    (@values["networks"] ||= []) << options.merge("kind" => kind)
  end

  def synced_folder(source, target, **options)
    (@values["synced_folders"] ||= []) << options.merge("source" => source,
                                                       "target" => target)
  end
end

class MachineRecorder < Recorder
  def vm
    @values["vm"] ||= VmRecorder.new
  end

  def winrm
    @values["winrm"] ||= CheckedRecorder.new("winrm")
  end
end

module Vagrant
  def self.configure(_version)
    yield MachineRecorder.new
  end
end

load ARGV.fetch(0)
puts JSON.generate($machines || {})
