package imagecheck

// ForHorde is Check in the shape horde.Config.CheckImage takes.
func ForHorde(data []byte, width, height int, upscaled bool) error {
	return Check(data, Size{Width: width, Height: height, Upscaled: upscaled})
}
