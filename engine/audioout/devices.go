package audioout

import (
	"fmt"

	"github.com/gordonklaus/portaudio"
)

// Devices lists the names of the devices that can play stereo, the default
// first. It initialises PortAudio for the call.
func Devices() ([]string, error) {
	quietALSA()
	if err := portaudio.Initialize(); err != nil {
		return nil, fmt.Errorf("audio devices: initialise PortAudio: %w", err)
	}
	defer portaudio.Terminate()
	all, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("audio devices: %w", err)
	}
	var names []string
	if def, err := portaudio.DefaultOutputDevice(); err == nil && def.MaxOutputChannels >= 2 {
		names = append(names, def.Name)
	}
	for _, d := range all {
		if d.MaxOutputChannels >= 2 && (len(names) == 0 || d.Name != names[0]) {
			names = append(names, d.Name)
		}
	}
	return names, nil
}

// findDevice returns the named output device, or the default for "".
// PortAudio must be initialised.
func findDevice(name string) (*portaudio.DeviceInfo, error) {
	if name == "" {
		d, err := portaudio.DefaultOutputDevice()
		if err != nil {
			return nil, fmt.Errorf("audio output: no default device: %w", err)
		}
		return d, nil
	}
	all, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("audio output: list devices: %w", err)
	}
	for _, d := range all {
		if d.Name == name && d.MaxOutputChannels > 0 {
			return d, nil
		}
	}
	return nil, fmt.Errorf("audio output: device %q not found", name)
}
