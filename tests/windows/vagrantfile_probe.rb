# Loads vms/Vagrantfile with a stand-in for Vagrant's configuration objects and
# prints every machine it defines, with the settings given, as one JSON document.
# Used when no vagrant with the WinRM communicator is installed.
require "json"

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

class VmRecorder < Recorder
  def define(name, **options)
    machine = MachineRecorder.new
    yield machine
    ($machines ||= {})[name] = { "options" => options, "config" => machine }
  end

  def provider(name)
    settings = Recorder.new
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
end

module Vagrant
  def self.configure(_version)
    yield MachineRecorder.new
  end
end

load ARGV.fetch(0)
puts JSON.generate($machines || {})
