// Render: under construction.
