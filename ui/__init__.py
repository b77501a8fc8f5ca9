"""What the pages share and is not a page: the server's services (jobs, run store), session and job ownership,
widget state and shared controls, dataset loading and checkpoint upload, the live view component and its feed
route, labels, server wiring."""
