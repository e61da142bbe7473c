"""Services: admission queues for beds (salabim) and home-service delivery within carer capacity."""
