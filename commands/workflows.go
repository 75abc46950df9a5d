package commands

// The image workflows (issue 11): img2img from a member's image
// (img2img.go), describe and upscale through alchemy (alchemy.go,
// describe.go, upscale.go), the buttons under one image of a result
// (image_buttons.go), the Remix context menu and its modal (remix.go) and
// /blend (blend.go).

// workflowCommands are the workflows' slash and context-menu commands.
func (s *Set) workflowCommands() []*Command {
	return []*Command{s.describeCommand(), s.describeMenu(), s.upscaleMenu(), s.remixMenu(), s.blendCommand()}
}

// workflowForms are the workflows' modal submits.
func (s *Set) workflowForms() []*Component {
	return []*Component{s.remixForm()}
}
