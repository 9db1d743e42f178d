def deliveries_erase_for_citizen(*, account, citizen) -> int:
    return 0
