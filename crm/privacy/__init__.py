"""Personal data (个人信息, PIPL): who sees mobiles and ID numbers in clear, the logged reveal, the rate limits."""
