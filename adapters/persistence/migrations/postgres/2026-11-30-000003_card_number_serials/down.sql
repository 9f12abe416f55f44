DROP TABLE card_number_serials;
